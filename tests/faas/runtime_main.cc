// The Catch2 main of the function definition and runtime tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

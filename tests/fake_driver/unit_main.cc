// The Catch2 main of the fake driver's own tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

// The Catch2 main of rcuda's unit tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

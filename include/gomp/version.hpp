// gomp/version.hpp: the library's version, kept equal to meson.build's
// project version and conanfile.py's (tests/version_test.cpp checks both).
//
//     #if GOMP_VERSION_MAJOR == 0 && GOMP_VERSION_MINOR < 2
//     // code for the 0.1 API
//     #endif
//     std::puts(GOMP_VERSION);   // "0.1.0"
#pragma once

// The version's parts, as integers for #if.
#define GOMP_VERSION_MAJOR 0
#define GOMP_VERSION_MINOR 1
#define GOMP_VERSION_PATCH 0
// The version as a string literal, "MAJOR.MINOR.PATCH".
#define GOMP_VERSION "0.1.0"

// GOMP_VERSION agrees with its parts, with meson.build's project version
// (GOMP_MESON_VERSION, passed by tests/meson.build) and with conanfile.py's
// `version = "..."` (GOMP_CONANFILE: the file's path, read at test time).
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

TEST_CASE("GOMP_VERSION is MAJOR.MINOR.PATCH") {
    CHECK(std::string(GOMP_VERSION) == std::to_string(GOMP_VERSION_MAJOR) + "." +
                                           std::to_string(GOMP_VERSION_MINOR) + "." +
                                           std::to_string(GOMP_VERSION_PATCH));
}

TEST_CASE("GOMP_VERSION equals meson.build's project version") {
    CHECK(std::string(GOMP_VERSION) == GOMP_MESON_VERSION);
}

// The recipe's `    version = "X.Y.Z"` line. (No std::regex: GCC 12 warns
// inside <regex> under ASan, and warnings are errors here.)
static std::string conanfile_version(std::istream& in) {
    for (std::string line; std::getline(in, line);) {
        std::size_t i = line.find_first_not_of(" \t");
        if (i == std::string::npos || i == 0 || line.compare(i, 7, "version") != 0 ||
            (line.size() > i + 7 && line[i + 7] != ' ' && line[i + 7] != '='))
            continue;
        std::size_t q1 = line.find('"', i), q2 = q1 == std::string::npos ? q1 : line.find('"', q1 + 1);
        if (q2 != std::string::npos && line.find('=', i) < q1) return line.substr(q1 + 1, q2 - q1 - 1);
    }
    return "";
}

TEST_CASE("GOMP_VERSION equals conanfile.py's version") {
    std::ifstream in(GOMP_CONANFILE);
    REQUIRE_MESSAGE(in.good(), "cannot read " GOMP_CONANFILE);
    std::string v = conanfile_version(in);
    REQUIRE_MESSAGE(!v.empty(), "no indented version = \"...\" line in " GOMP_CONANFILE);
    CHECK(v == GOMP_VERSION);
}

TEST_CASE("the conanfile reader finds the recipe's version line, nothing else") {
    std::istringstream recipe("import os\nversion = \"9.9.9\"\nclass C:\n    name = \"gomp\"\n"
                              "    version_note = \"x\"\n    version = \"1.2.3\"\n");
    CHECK(conanfile_version(recipe) == "1.2.3");
}

// GOMP_VERSION agrees with its parts, with meson.build's project version
// (GOMP_MESON_VERSION, passed by tests/meson.build) and with conanfile.py's
// `version = "..."` (GOMP_CONANFILE: the file's path, read at test time).
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <regex>
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

TEST_CASE("GOMP_VERSION equals conanfile.py's version") {
    std::ifstream in(GOMP_CONANFILE);
    REQUIRE_MESSAGE(in.good(), "cannot read " GOMP_CONANFILE);
    std::stringstream text;
    text << in.rdbuf();
    std::smatch m;
    std::string s = text.str();
    REQUIRE_MESSAGE(std::regex_search(s, m, std::regex(R"(\n\s*version\s*=\s*"([^"]*)\")")),
                    "no version = \"...\" in " GOMP_CONANFILE);
    CHECK(m[1].str() == GOMP_VERSION);
}

"""Conan 2 recipe for gomp, a header-only library.

    conan create .                     # package it and run test_package/
    # consumers: requires = "gomp/0.1.0"; pkg-config name gomp,
    # CMake find_package(gomp) and target gomp::gomp

The version is kept equal to meson.build's and GOMP_VERSION
(tests/version_test.cpp checks).
"""
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy


class GompConan(ConanFile):
    name = "gomp"
    version = "0.1.0"
    description = ("Go's runtime concurrency for C++20: goroutines on a work-stealing M:P:G "
                   "scheduler, channels, select, Go maps, slices and interfaces")
    license = "MIT"
    topics = ("goroutines", "channels", "fibers", "concurrency", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("pkg_config_name", "gomp")
        self.cpp_info.set_property("cmake_file_name", "gomp")
        self.cpp_info.set_property("cmake_target_name", "gomp::gomp")
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]

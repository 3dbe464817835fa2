// gomp/gomp.hpp: the umbrella header. Go's runtime concurrency for C++20:
// goroutines, channels, select, maps, slices and interfaces.
#pragma once

#include <gomp/panic.hpp>
#include <gomp/chan.hpp>
#include <gomp/hash.hpp>
#include <gomp/runtime.hpp>
#include <gomp/select.hpp>
#include <gomp/iface.hpp>
#include <gomp/map.hpp>
#include <gomp/slice.hpp>
#include <gomp/sync.hpp>
#include <gomp/time.hpp>
#include <gomp/context.hpp>
#include <gomp/net.hpp>
#include <gomp/version.hpp>

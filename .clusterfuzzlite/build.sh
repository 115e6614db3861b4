#!/bin/bash -eu
# ClusterFuzzLite build: the project's OSS-Fuzz build script does the work
# (it reads $CC, $CXX, $CFLAGS, $CXXFLAGS, $LIB_FUZZING_ENGINE, $SRC, $OUT).
"$SRC/sptefuzz/scripts/oss-fuzz/build.sh"

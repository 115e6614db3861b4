#!/bin/bash -eu
# OSS-Fuzz build of sptefuzz: the repository's own script does the work
# (it reads $CC, $CXX, $CFLAGS, $CXXFLAGS, $LIB_FUZZING_ENGINE, $SRC, $OUT).
"$SRC/sptefuzz/scripts/oss-fuzz/build.sh"

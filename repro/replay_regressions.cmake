# Replays every regression repro: all of them twice in one process (the
# replay command runs each file twice and compares the traces, and one
# process runs them all, so no state may leak from one file to the next),
# then each file once more in a fresh process; the trace hash must be the
# same everywhere and every verdict must be the file's `expect` line.
# The directory is read when the test runs, so adding a file is enough.
#
#   cmake -DSPTEFUZZ=build/x/repro/sptefuzz -DDIR=corpus/regressions -P repro/replay_regressions.cmake
cmake_minimum_required(VERSION 3.22)
if(NOT SPTEFUZZ OR NOT DIR)
  message(FATAL_ERROR "usage: cmake -DSPTEFUZZ=<sptefuzz binary> -DDIR=<regressions dir> -P replay_regressions.cmake")
endif()

get_filename_component(DIR "${DIR}" ABSOLUTE)
file(GLOB all_files LIST_DIRECTORIES false RELATIVE "${DIR}" "${DIR}/*")
set(files "")
foreach(f IN LISTS all_files)
  if(f MATCHES "^README" OR f MATCHES "^\\.")
    continue()
  endif()
  if(NOT f MATCHES "\\.repro$")
    message(FATAL_ERROR "${DIR}/${f}: regression files are text repros named *.repro with an 'expect' line "
                        "(turn a raw fuzz input into one with `sptefuzz minimize FILE -o NAME.repro`)")
  endif()
  list(APPEND files "${DIR}/${f}")
endforeach()
list(LENGTH files n)
if(n EQUAL 0)
  message(FATAL_ERROR "no *.repro files in ${DIR}")
endif()

execute_process(COMMAND "${SPTEFUZZ}" replay --expect --quiet ${files}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sptefuzz replay --expect of all ${n} files in one process exited ${rc}:\n${out}\n${err}")
endif()

set(failed 0)
foreach(f IN LISTS files)
  string(REGEX REPLACE "([][+.*()^$?|\\])" "\\\\\\1" f_re "${f}")
  string(REGEX MATCH "INFO: sptefuzz replay: ${f_re}: trace hash ([0-9a-f]+)" m "${out}")
  set(hash_all "${CMAKE_MATCH_1}")
  if(hash_all STREQUAL "")
    message(SEND_ERROR "${f}: no trace hash line in the output of the one-process replay")
    math(EXPR failed "${failed} + 1")
    continue()
  endif()
  execute_process(COMMAND "${SPTEFUZZ}" replay --expect --quiet "${f}"
                  RESULT_VARIABLE rc1 OUTPUT_VARIABLE out1 ERROR_VARIABLE err1)
  string(REGEX MATCH "trace hash ([0-9a-f]+)" m1 "${out1}")
  set(hash_one "${CMAKE_MATCH_1}")
  if(NOT rc1 EQUAL 0)
    message(SEND_ERROR "${f}: sptefuzz replay --expect in a fresh process exited ${rc1}:\n${out1}\n${err1}")
    math(EXPR failed "${failed} + 1")
  elseif(NOT hash_one STREQUAL hash_all)
    message(SEND_ERROR "${f}: trace hash ${hash_one} in a fresh process but ${hash_all} after the other files "
                       "(state leaks between executions)")
    math(EXPR failed "${failed} + 1")
  else()
    message(STATUS "ok ${f} (trace hash ${hash_one})")
  endif()
endforeach()
if(failed GREATER 0)
  message(FATAL_ERROR "${failed} of ${n} regression files failed")
endif()
message(STATUS "all ${n} regression files replay with their expected verdict, deterministically")

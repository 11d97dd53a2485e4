# Helpers that give every MedFusion target the same standard, warnings and include paths.
# Warnings apply to our sources only; third-party headers come in as SYSTEM includes.

set(MEDFUSION_WARNINGS -Wall -Wextra -Wpedantic -Wshadow)

# medfusion_library(NAME SOURCES... [TORCH]) adds a static library medfusion_<NAME>.
# TORCH links LibTorch (scoped, PUBLIC) and adds the torch precompiled header.
function(medfusion_library name)
    cmake_parse_arguments(ARG "TORCH" "" "SOURCES" ${ARGN})
    set(target medfusion_${name})
    add_library(${target} STATIC ${ARG_SOURCES})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                         PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(${target} PRIVATE ${MEDFUSION_WARNINGS})
    if(ARG_TORCH)
        medfusion_use_torch(${target})
    endif()
endfunction()

# Torch's headers trigger our warnings; keep them as system headers and precompile them.
function(medfusion_use_torch target)
    target_link_libraries(${target} PUBLIC torch)
    get_target_property(torch_includes torch INTERFACE_INCLUDE_DIRECTORIES)
    if(torch_includes)
        target_include_directories(${target} SYSTEM PUBLIC ${torch_includes})
    endif()
    target_precompile_headers(${target} PRIVATE <utility> <torch/torch.h>)
endfunction()

# medfusion_test(NAME SOURCES... LIBS...) adds a GoogleTest executable registered with CTest.
function(medfusion_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
    target_compile_options(${name} PRIVATE ${MEDFUSION_WARNINGS})
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120
        PROPERTIES ENVIRONMENT "MEDFUSION_SOURCE_DIR=${PROJECT_SOURCE_DIR}" LABELS "${ARG_LABELS}")
endfunction()

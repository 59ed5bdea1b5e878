# Installs the C/C++ package: the header, the shared library and a CMake package
# config, so that a C++ program writes find_package(fastctc) and links
# fastctc::fastctc. A plain `cmake --install` puts them in the usual GNU places;
# the wheel puts the same files inside the Python package (pyproject.toml points
# the GNUInstallDirs destinations there), where fastctc.get_include() and
# fastctc.get_cmake_dir() find them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(fastctc_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/fastctc)

install(TARGETS fastctc EXPORT fastctc FILE_SET HEADERS)
# The library has no dependency its users must find, so the exported targets
# are the whole package config.
install(EXPORT fastctc NAMESPACE fastctc:: FILE fastctcConfig.cmake DESTINATION ${fastctc_cmake_dir})
# 0.x: a minor release may change the C API, so only patch releases are compatible.
write_basic_package_version_file(fastctcConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fastctcConfigVersion.cmake DESTINATION ${fastctc_cmake_dir})

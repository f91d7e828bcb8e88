// Compiles nothing: the object library that precompiles the libraries' headers
// (p2plab_precompile_library_headers in cmake/TestHeaders.cmake) needs a source file.

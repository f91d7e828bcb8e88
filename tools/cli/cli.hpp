#pragma once
// The command line as a library: `p2plab` is main.cpp calling run_cli, and a program that links
// more protocol modules (the toy protocol's p2plab-toy) calls the same function.
namespace p2plab::cli {
/// Parses the arguments and runs the command; returns the process exit status.
int run_cli(int argc, char** argv);
}  // namespace p2plab::cli

// p2plab: the command line (cli.cpp) with the protocols built into the tree.
#include "cli.hpp"

int main(int argc, char** argv) { return p2plab::cli::run_cli(argc, argv); }

#pragma once
// p2plab-viz as a library: the window, the panels and the command line. A program links it with
// the protocols it should know (they register themselves) and calls run_visualizer from main:
// p2plab-viz with every protocol of the tree, test programs with a protocol of their own.
namespace p2plab::viz {

/// The visualizer's command line (see README.md); returns the process's exit status.
int run_visualizer(int argc, char** argv);

}  // namespace p2plab::viz

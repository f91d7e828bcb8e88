// p2plab-viz: the interactive visualizer (Dear ImGui + GLFW + OpenGL 3). See README.md; the
// program is app.cpp, linked here with the tree's protocols.
#include "app.hpp"

int main(int argc, char** argv) { return p2plab::viz::run_visualizer(argc, argv); }

// The source tree's folder, compiled alone: the CLI's other files then carry no absolute path,
// so a second tree of the same sources (the student release) finds them in the compiler cache.
namespace p2plab::cli {
const char* source_dir() { return P2PLAB_SOURCE_DIR; }
}  // namespace p2plab::cli

#pragma once
// Adding a file or a folder: the chunker cuts the file, every chunk becomes a leaf block, and the
// balanced layout links the leaves under parent nodes of at most max_links links, level by level,
// until one root is left: a Merkle DAG whose root CID names the whole file. What `ipfs add
// --only-hash` computes, with the parameters of the CID profiles of IPIP-0499. Those decisions are
// the functions of exercise ipfs-cid (logic.hpp: the reference or a student's code); the builder
// reads the file, checks what they return and stores the blocks. Folders are the builder's own.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chunker.hpp"
#include "cid.hpp"
#include "dag_tree.hpp"
#include "logic.hpp"

namespace p2plab::ipfs {

constexpr std::size_t kMaxChunkSize = 1 << 20;  ///< kubo's limit (a block must fit a Bitswap message)
constexpr std::size_t kMaxLinks = 8192;         ///< keeps a parent block far below 1 MiB
/// A directory block above this size would be a HAMT shard in kubo and js-ipfs (not built here).
constexpr std::size_t kMaxDirectoryBlock = 256 * 1024;
/// No block may be larger (kubo's limit, what a Bitswap message carries): a chunk or a parent the
/// exercised code makes above it is refused.
constexpr std::size_t kMaxBlock = 2 << 20;

struct ImportOptions {
  int cid_version = 0;
  bool raw_leaves = false;  ///< leaves as raw blocks (always CIDv1, as in kubo) instead of dag-pb
  std::size_t chunk_size = 256 * 1024;
  std::size_t max_links = 174;

  /// "unixfs-v0-2015" (the defaults above: kubo's CIDv0) or "unixfs-v1-2025" (CIDv1, raw leaves,
  /// 1 MiB chunks, 1024 links); another name is a FormatError listing both.
  static ImportOptions profile(std::string_view name);
  /// The profile these options equal, or "".
  std::string profile_name() const;
  /// One line: "CIDv0, dag-pb leaves, chunks of 256 KiB, at most 174 links per node".
  std::string describe() const;
  /// Throws FormatError naming the option out of range (--chunk-size, --max-links, --cid-version).
  void check() const;
};

/// The checks of what the exercised code returns (logic.hpp), each a FormatError naming
/// `function`: a block above kMaxBlock, a CID of another version or codec than UnixFS uses, or one
/// that is not the CID of the block.
/// What the exercise's code (logic.hpp) returned is not a valid answer: the message names the
/// function. A FormatError on the command line (exit 2); a simulation refuses that one add and
/// runs on (a lab on untouched stubs must still run).
class ExerciseError : public FormatError {
 public:
  using FormatError::FormatError;
};

void check_made_block(const logic::MadeBlock& made, const char* function);
/// Chunk `index` of a file of `file_size` bytes, read so far up to byte `position`: it must begin
/// at or after `position` (file order, no overlap), end inside the file and fit in a block.
void check_chunk_range(const logic::ByteRange& range, std::size_t index, std::uint64_t position,
                       std::uint64_t file_size);

/// Receives every block the builder makes (a block store); a block may come more than once.
using BlockSink = std::function<void(const Cid&, std::string_view block)>;

class DagBuilder {
 public:
  explicit DagBuilder(ImportOptions options, BlockSink sink = {});

  /// A file of `size` bytes from `source` (chunker.hpp), called `name` in errors. The exercised
  /// code's mistakes (a chunk outside the file, a CID that does not name its block, a root that is
  /// no block made for this file) are FormatErrors naming the function; a source that does not
  /// hold exactly `size` bytes is an ImportError.
  Cid add_file(const ByteSource& source, std::uint64_t size, const std::string& name = "the input");
  Cid add_bytes(std::string_view content);
  /// A regular file, or a folder with its files and subfolders (names in byte order, names
  /// beginning with '.' left out as kubo does by default). A missing, unreadable or special
  /// file, or a symbolic link, is an ImportError naming the path.
  Cid add_path(const std::filesystem::path& path);

  /// Every distinct block made so far, decoded (for the tree view): small, no file data.
  const std::map<Cid, DagNode>& nodes() const { return nodes_; }
  std::optional<DagNode> node(const Cid& cid) const;
  std::uint64_t chunks() const { return chunks_; }
  std::uint64_t blocks_made() const { return blocks_made_; }  ///< with repeats (same chunk twice)

 private:
  /// A node as its parent sees it: CID, file bytes under it, Tsize.
  using Built = logic::Child;
  void put(const Cid& cid, std::string_view block);
  /// A block of the exercised code (`function` names it in errors): checked, stored, made_.
  Built accept(const logic::MadeBlock& made, const char* function);
  Built add_directory(const std::filesystem::path& path, int depth);
  Built add_entry(const std::filesystem::path& path, int depth);

  ImportOptions options_;
  BlockSink sink_;
  std::map<Cid, DagNode> nodes_;
  std::set<Cid> made_;  ///< the blocks made for the file being added
  std::uint64_t chunks_ = 0, blocks_made_ = 0;
};

}  // namespace p2plab::ipfs

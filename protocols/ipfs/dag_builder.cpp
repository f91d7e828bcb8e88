#include "dag_builder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "chunker.hpp"
#include "dag_pb.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs {

namespace fs = std::filesystem;

ImportOptions ImportOptions::profile(std::string_view name) {
  if (name == "unixfs-v0-2015") return ImportOptions{};
  if (name == "unixfs-v1-2025") return ImportOptions{1, true, 1 << 20, 1024};
  throw FormatError("--profile: \"" + std::string(name) + "\" is not a profile (unixfs-v0-2015, unixfs-v1-2025)");
}

std::string ImportOptions::profile_name() const {
  for (const char* name : {"unixfs-v0-2015", "unixfs-v1-2025"}) {
    const ImportOptions p = profile(name);
    if (p.cid_version == cid_version && p.raw_leaves == raw_leaves && p.chunk_size == chunk_size &&
        p.max_links == max_links) {
      return name;
    }
  }
  return "";
}

std::string ImportOptions::describe() const {
  std::string out = "CIDv" + std::to_string(cid_version) + ", " + (raw_leaves ? "raw" : "dag-pb") +
                    " leaves, chunks of " + human_size(chunk_size) + ", at most " + std::to_string(max_links) +
                    " links per node";
  const std::string name = profile_name();
  return name.empty() ? out : out + " (profile " + name + ")";
}

void ImportOptions::check() const {
  if (cid_version != 0 && cid_version != 1) {
    throw FormatError("--cid-version: " + std::to_string(cid_version) + " (0 or 1)");
  }
  if (chunk_size < 1 || chunk_size > kMaxChunkSize) {
    throw FormatError("--chunk-size: " + std::to_string(chunk_size) + " bytes (1 to " + std::to_string(kMaxChunkSize) +
                      ")");
  }
  if (max_links < 2 || max_links > kMaxLinks) {
    throw FormatError("--max-links: " + std::to_string(max_links) + " (2 to " + std::to_string(kMaxLinks) + ")");
  }
}

DagBuilder::DagBuilder(ImportOptions options, BlockSink sink) : options_(options), sink_(std::move(sink)) {
  options_.check();
}

std::optional<DagNode> DagBuilder::node(const Cid& cid) const {
  const auto it = nodes_.find(cid);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

void DagBuilder::put(const Cid& cid, std::string_view block) {
  ++blocks_made_;
  if (!nodes_.count(cid)) nodes_.emplace(cid, describe_block(cid, block));
  if (sink_) sink_(cid, block);
}

namespace {

/// "make_leaf (exercise ipfs-cid)": how errors name the exercised code.
std::string exercised(const char* function) { return std::string(function) + " (exercise ipfs-cid)"; }

}  // namespace

void check_made_block(const logic::MadeBlock& made, const char* function) {
  const Cid& cid = made.child.cid;
  const std::string who = exercised(function);
  if (made.block.size() > kMaxBlock) {
    throw ExerciseError(who + " made a block of " + std::to_string(made.block.size()) + " bytes (at most " +
                        std::to_string(kMaxBlock) + ")");
  }
  if (cid.version != 0 && cid.version != 1) {
    throw ExerciseError(who + " returned a CID of version " + std::to_string(cid.version) + " (0 or 1)");
  }
  if (cid.codec != kDagPb && cid.codec != kRaw) {
    throw ExerciseError(who + " returned a CID of codec " + codec_name(cid.codec) + " (dag-pb or raw)");
  }
  if (cid.version == 0 && cid.codec != kDagPb) {
    throw ExerciseError(who + " returned a CIDv0 of codec " + codec_name(cid.codec) +
                        ": a CIDv0 names dag-pb blocks only");
  }
  if (cid.hash.code != kSha2_256 || !verify(cid.hash, made.block)) {
    throw ExerciseError(who + " returned " + cid.to_string() + ", which is not the CID of its block (" +
                        cid_of(cid.version, cid.codec, made.block).to_string() + " is)");
  }
}

void check_chunk_range(const logic::ByteRange& range, std::size_t index, std::uint64_t position,
                       std::uint64_t file_size) {
  const std::string which = exercised("chunk_ranges") + ": chunk " + std::to_string(index) + " (" +
                            std::to_string(range.length) + " bytes from byte " + std::to_string(range.offset) + ")";
  if (range.offset < position) {
    throw ExerciseError(which + " begins before the end of the chunk before (byte " + std::to_string(position) +
                        "): chunks come in file order, without overlap");
  }
  if (range.offset > file_size || range.length > file_size - range.offset) {
    throw ExerciseError(which + " goes beyond the end of the file (" + std::to_string(file_size) + " bytes)");
  }
  if (range.length > kMaxBlock) {
    throw ExerciseError(which + " is larger than a block may be (" + std::to_string(kMaxBlock) + " bytes)");
  }
}

DagBuilder::Built DagBuilder::accept(const logic::MadeBlock& made, const char* function) {
  check_made_block(made, function);
  try {
    put(made.child.cid, made.block);
  } catch (const FormatError& error) {
    throw ExerciseError(exercised(function) + " made a block that is not a valid UnixFS node: " + error.what());
  }
  made_.insert(made.child.cid);
  return made.child;
}

Cid DagBuilder::add_file(const ByteSource& source, std::uint64_t size, const std::string& name) {
  // The exercised code decides which bytes make each chunk, each leaf's and each parent's block,
  // and how the leaves are grouped under parents (logic.hpp); this reads, checks and stores.
  const std::vector<logic::ByteRange> ranges = logic::chunk_ranges(size, options_.chunk_size);
  if (ranges.empty()) {
    throw ExerciseError(exercised("chunk_ranges") + " gave no chunk for a file of " + std::to_string(size) +
                        " bytes (an empty file is one empty chunk)");
  }
  made_.clear();
  ChunkReader reader(source);
  std::vector<Built> leaves;
  leaves.reserve(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const auto [offset, length] = ranges[i];
    check_chunk_range(ranges[i], i, reader.position(), size);
    const Bytes chunk = reader.read(offset, length);
    if (chunk.size() != length) {
      throw ImportError(name + ": ended at byte " + std::to_string(reader.position()) + ", before its size of " +
                        std::to_string(size) + " bytes (did it shrink while being added?)");
    }
    ++chunks_;
    leaves.push_back(accept(logic::make_leaf(chunk, options_.raw_leaves, options_.cid_version), "make_leaf"));
  }
  // A size that was wrong (a file that grew, a /proc file that says 0 bytes) must not give the CID
  // of part of the file.
  if (!reader.ends_at(size)) {
    throw ImportError(name + ": holds more than its size of " + std::to_string(size) +
                      " bytes (a file that grew while being added, or one that does not say its size): not added");
  }
  // A balanced tree over n leaves has at most n / (max_links - 1) parents plus one a level (a
  // last run of one), fewer than n + 64: more than that, and the layout's loop is not ending.
  const std::size_t max_parents = leaves.size() + 64;
  std::size_t parents = 0;
  const logic::ParentOf parent_of = [&](std::span<const Built> children) {
    if (++parents > max_parents) {
      throw ExerciseError(exercised("balanced_root") + " asked for more than " + std::to_string(max_parents) +
                          " parents over " + std::to_string(leaves.size()) + " leaves: does its loop end?");
    }
    for (const Built& child : children) {
      if (!made_.count(child.cid)) {
        throw ExerciseError(exercised("balanced_root") + " gave parent_of a child " + child.cid.to_string() +
                            " that is no block made for this file");
      }
    }
    return accept(logic::make_parent(children, options_.cid_version), "make_parent");
  };
  const Built root = logic::balanced_root(leaves, options_.max_links, parent_of);
  if (!made_.count(root.cid)) {
    throw ExerciseError(exercised("balanced_root") + " returned " + root.cid.to_string() +
                        ", which is no block made for this file (the root is a leaf or a parent made by parent_of)");
  }
  return root.cid;
}

Cid DagBuilder::add_bytes(std::string_view content) {
  std::size_t pos = 0;
  return add_file(
      [&](char* buffer, std::size_t size) {
        const std::size_t n = std::min(size, content.size() - pos);
        std::copy_n(content.data() + pos, n, buffer);
        pos += n;
        return n;
      },
      content.size());
}

Cid DagBuilder::add_path(const fs::path& path) { return add_entry(path, 0).cid; }

DagBuilder::Built DagBuilder::add_entry(const fs::path& path, int depth) {
  std::error_code error;
  const fs::file_status status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) throw ImportError(path.string() + ": no such file or directory");
  if (fs::is_symlink(status)) {
    throw ImportError(path.string() +
                      ": a symbolic link, not added (UnixFS would store the link itself: not built here)");
  }
  if (fs::is_directory(status)) return add_directory(path, depth);
  if (!fs::is_regular_file(status)) throw ImportError(path.string() + ": not a regular file or directory");
  // C stdio rather than a stream: std::ifstream takes a read error (EIO) for the end of the file.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw ImportError(path.string() + ": cannot be read (" + std::strerror(errno) + ")");
  const std::uintmax_t file_bytes = fs::file_size(path, error);
  if (error) throw ImportError(path.string() + ": cannot be read (" + error.message() + ")");
  const Cid cid = add_file(
      [&](char* buffer, std::size_t size) {
        const std::size_t n = std::fread(buffer, 1, size, file.get());
        if (n == 0 && std::ferror(file.get())) {
          throw ImportError(path.string() + ": read error (" + std::strerror(errno) + ")");
        }
        return n;
      },
      file_bytes, path.string());
  const DagNode& node = nodes_.at(cid);
  std::uint64_t tsize = node.block_size;
  for (const DagLink& link : node.links) tsize += link.tsize;
  return Built{cid, node.content_size, tsize};
}

DagBuilder::Built DagBuilder::add_directory(const fs::path& path, int depth) {
  constexpr int kMaxDepth = 256;  // a folder nested deeper is refused rather than recursed into
  if (depth > kMaxDepth) throw ImportError(path.string() + ": folders nested deeper than " + std::to_string(kMaxDepth));
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.') names.push_back(name);
  }
  if (error) throw ImportError(path.string() + ": cannot list the folder (" + error.message() + ")");
  std::sort(names.begin(), names.end());  // dag-pb: a directory's links sorted by name bytes
  PbNode node;
  std::uint64_t tsize_below = 0;
  for (const std::string& name : names) {
    const Built child = add_entry(path / name, depth + 1);
    node.links.push_back(PbLink{child.cid, name, child.tsize});
    tsize_below += child.tsize;
  }
  node.data = encode_unixfs(UnixfsData{UnixfsType::Directory, {}, {}, {}, {}, {}});
  const Bytes block = encode_pb_node(node);
  if (block.size() > kMaxDirectoryBlock) {
    throw ImportError(path.string() + ": " + std::to_string(names.size()) +
                      " entries make a directory block above 256 KiB, which IPFS shards (HAMT, not built here)");
  }
  const Cid cid = cid_of(options_.cid_version, kDagPb, block);
  put(cid, block);
  return Built{cid, 0, block.size() + tsize_below};
}

}  // namespace p2plab::ipfs

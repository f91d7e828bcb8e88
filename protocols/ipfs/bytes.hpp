#pragma once
// Bytes as the content-addressing code passes them around, and the errors it throws.
#include <stdexcept>
#include <string>

namespace p2plab::ipfs {

/// A sequence of bytes (file content, an encoded block, a digest). std::string because blocks are
/// read from files and compared and hashed as a whole: it is the byte container streams fill.
using Bytes = std::string;

/// Input that is not what its format says: a CID's text, a varint, a block. The message names the
/// field and the reason; the command line prints it and exits with status 2.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file or folder that cannot be added or read (missing, unreadable, not a regular file, too
/// large a directory); the message names the path. Also exit status 2 on the command line.
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace p2plab::ipfs

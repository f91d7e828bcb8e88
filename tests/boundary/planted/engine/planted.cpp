// A planted violation for the boundary check's own test: a protocol header included and a
// protocol named in code (a comment naming chord is fine).
#include "chord/chord.hpp"
const char* planted = "kademlia";

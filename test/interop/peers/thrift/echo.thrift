// Test IDL of the Thrift interop peers (spec/test-vectors.md §2).
namespace cpp meltemi_echo
namespace py echo

exception EchoError {
  1: string message,
  2: i32 code
}

struct Pair {
  1: string key,
  2: i32 value
}

service Echo {
  // Returns "<msg>@<server name>". Special messages: "!fired" returns the notes received by
  // fire() so far (comma-separated); "!header:<key>" returns that THeader info header.
  string echo(1: string msg),
  i32 add(1: i32 a, 2: i32 b),
  // key "bad" throws EchoError{"no such key", 42}; otherwise Pair{key, len(key)}
  Pair getPair(1: string key) throws (1: EchoError err),
  oneway void fire(1: string note),
  // always fails with an undeclared error (a TApplicationException on the wire)
  void fail(1: string why)
}

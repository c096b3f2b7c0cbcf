// Package jsonstream reads a stream of JSON documents: it validates
// them, splits the stream into documents and each document into its
// top-level members while reading, locates the members of each
// member's value (and theirs), skips lines that are not JSON, and says
// where a fault is (InputError: name, line, byte). It reads in order,
// or cut into segments on every core with the same result.
//
// A Handler hears each document and member as it is read; what it is
// given is valid during the call only, unless the Doc holds it.
//
// It must never know what the JSON means: no Salt here. Whoever reads
// Salt returns (package filter) sees decoded keys and raw value bytes,
// never offsets or spans.
package jsonstream

// Package deliver is saltmail's edge to the world: a hardened SMTP
// client and a sendmail pipe (both gomail.SendCloser), bounded retries
// that tell temporary failures from permanent ones, a spool that keeps
// every message that could not be delivered until a flush can, and the
// memory of what was reported (one record per minion, under flock).
//
// It opens sockets, runs programs and writes files; it decides nothing.
// What to send and to whom comes in as values, a message is always the
// exact bytes to put on the wire, and its errors name its own fields
// (ConfigError), never the configuration's spellings. It must never
// import the packages that judge or render Salt output.
package deliver

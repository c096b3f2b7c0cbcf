// Package deliver hands finished messages to the world: a hardened SMTP
// client and a sendmail pipe (both gomail.SendCloser), bounded retries
// that tell temporary failures from permanent ones, and a spool that
// keeps every message that could not be delivered until a flush can.
//
// This is the edge: it opens sockets, runs programs and writes files.
// Everything it must not decide (what to send, to whom) comes in as
// values; a message is always the exact bytes to put on the wire.
package deliver

package deliver

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// address makes an entry kept before its recipients were known concrete
// in the spool, under its lock, before it is first offered: the message
// with the headers Address gives, then the envelope with its sender and
// every recipient. From then on it is narrowed like any other when only
// some recipients get it; left as "the configuration's", it would go to
// every recipient again on each flush. The new .eml is locked before it
// takes the old one's name, so no other flush can take it in between.
// A crash between the two writes leaves a readdressed message whose
// envelope still says "the configuration's": it is readdressed again,
// to the same effect. It returns the new .eml, locked: close it when
// the offer is over.
func (s Spool) address(r *result, base string) (*os.File, error) {
	env, msg, err := s.Address(r.msg)
	if err != nil {
		return nil, err
	}
	env.Reason, env.Spooled, env.RecipientsFromConfig = r.env.Reason, r.env.Spooled, false
	lock, err := replaceLocked(base+".eml", msg)
	if err != nil {
		return nil, fmt.Errorf("its recipients could not be written into the spool: %w", err)
	}
	if err := writeEnvelope(base+".env", env); err != nil {
		lock.Close()
		return nil, fmt.Errorf("its recipients could not be written into the spool: %w", err)
	}
	syncDir(s.Dir)
	r.env, r.msg = env, msg
	return lock, nil
}

// replaceLocked writes data to path as WriteFileAtomic does, but locks
// the new file before it takes path's name, and returns it open and
// locked.
func replaceLocked(path string, data []byte) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) // no one else knows the name yet
	}
	if err == nil {
		err = fsRename(tmp, path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return f, nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// rereadable is an input that can be read twice: once to check every row,
// then again to apply them, so no more than one row is held in memory.
type rereadable struct {
	io.ReadSeeker
	start int64 // where the input began
	close func()
}

// openInput opens FILE, or standard input for "-". Standard input that is
// a pipe is copied to a temporary file first.
func (c *cli) openInput(name string) (*rereadable, error) {
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		return &rereadable{f, 0, func() { f.Close() }}, nil
	}
	stdin := c.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	if rs, ok := stdin.(io.ReadSeeker); ok {
		if at, err := rs.Seek(0, io.SeekCurrent); err == nil {
			return &rereadable{rs, at, func() {}}, nil
		}
	}
	tmp, err := os.CreateTemp("", "invitectl-*.csv")
	if err != nil {
		return nil, fmt.Errorf("keeping standard input in a temporary file: %v", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, stdin); err != nil {
		cleanup()
		return nil, fmt.Errorf("reading standard input: %v", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, err
	}
	return &rereadable{tmp, 0, cleanup}, nil
}

// rewind starts the input over.
func (r *rereadable) rewind() error {
	_, err := r.Seek(r.start, io.SeekStart)
	if err != nil {
		return errors.New("the input cannot be read twice: give a file name")
	}
	return nil
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// writeOutput runs write on standard output ("-") or on FILE. A file is
// written under a temporary name and renamed when complete, so a failed
// export never leaves a truncated file that looks whole.
func writeOutput(c *cli, name string, write func(io.Writer) error) error {
	if name == "-" {
		bw := bufio.NewWriterSize(c.stdout, 64<<10)
		if err := write(bw); err != nil {
			bw.Flush()
			return err
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("cannot write %s: %v", name, err)
	}
	return nil
}

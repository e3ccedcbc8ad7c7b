package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// ErrTooLarge is returned for a configuration over MaxFileSize.
var ErrTooLarge = errors.New("config: file larger than 1 MiB")

// Load reads a configuration file (empty path: no file), applies defaults
// and validates the result.
func Load(path string) (*Stack, error) {
	var data []byte
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer func() { _ = f.Close() }()
		if data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1)); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	// A file a stack file names is found beside it, wherever strata runs.
	for _, p := range []*string{&s.State.AuthSecretFile, &s.Edge.PurgeTokenFile} {
		if *p != "" && !filepath.IsAbs(*p) && path != "" {
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), *p))
			if err != nil {
				return nil, fmt.Errorf("config: %s: %w", path, err)
			}
			*p = abs
		}
	}
	return s, nil
}

// Parse decodes YAML strictly (unknown fields are errors), applies defaults
// and validates the result. Every error is a *FieldError naming the YAML
// path and, where the file gave it, the line.
func Parse(data []byte) (*Stack, error) {
	if len(data) > MaxFileSize {
		return nil, ErrTooLarge
	}
	s := &Stack{}
	d := &decoder{lines: map[string]int{}}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
			return nil, syntaxError(err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			if err != nil {
				return nil, syntaxError(err)
			}
			return nil, &FieldError{Field: "YAML syntax", Line: extra.Line, Problem: "more than one YAML document; want exactly one"}
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			if err := d.decode(doc.Content[0], "", reflect.ValueOf(s).Elem()); err != nil {
				return nil, err
			}
		}
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Line == 0 {
			fe.Line = d.lineOf(fe.Field)
		}
		return nil, err
	}
	return s, nil
}

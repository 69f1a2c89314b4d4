package docsgen

import (
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// StalePages lists the .md files under dir that the provider no longer generates (a removed or
// renamed resource), relative to dir.
func StalePages(dir string, pages map[string]string) ([]string, error) {
	var stale []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return filepath.SkipDir // nothing generated yet
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".md") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, ok := pages[filepath.ToSlash(rel)]; !ok {
			stale = append(stale, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(stale)
	return stale, err
}

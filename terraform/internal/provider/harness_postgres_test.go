package provider

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
)

// postgresCluster is a throwaway PostgreSQL server, as test/helpers/postgres-cluster.ts makes for
// the TypeScript suites: initdb in a temp folder, pg_ctl on a free port, removed on stop. As root
// it runs as the postgres user, which PostgreSQL requires.
type postgresCluster struct {
	url  string
	stop func()
}

func startPostgresCluster() (*postgresCluster, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "interim-tf-pg-")
	if err != nil {
		return nil, err
	}
	asRoot := os.Geteuid() == 0
	if asRoot {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	run := func(tool string, args ...string) error {
		name, argv := filepath.Join(bin, tool), args
		if asRoot {
			name, argv = "runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, tool)}, args...)
		}
		if out, err := exec.Command(name, argv...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", tool, err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	remove := func() { os.RemoveAll(dir) }
	if err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		remove()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		remove()
		return nil, err
	}
	options := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
	if err := run("pg_ctl", "-D", data, "-o", options, "-l", filepath.Join(dir, "log"), "-w", "start"); err != nil {
		remove()
		return nil, err
	}
	return &postgresCluster{
		url: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres", port),
		stop: func() {
			_ = run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
			remove()
		},
	}, nil
}

// postgresBinDir is the newest /usr/lib/postgresql/<version>/bin that has initdb (Debian's layout).
func postgresBinDir() (string, error) {
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(versions, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(versions[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(versions[j]))))
		return vi > vj
	})
	if len(versions) == 0 {
		return "", fmt.Errorf("PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)")
	}
	return filepath.Dir(versions[0]), nil
}

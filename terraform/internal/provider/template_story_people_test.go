package provider

// People for the end-to-end story: users made through the admin API who sign in with their
// password, call the REST API with their session (cookie plus CSRF token, as the portal does), and
// sign in to an application with the OpenID Connect authorization code flow (PKCE), the way a
// relying party's browser would: following the server's redirects, filling in the login form and
// the consent page, and stopping at the redirect back to the application.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const storyPassword = "a long enough password for the story"

type person struct {
	ID, Email string
	base      string
	cookies   map[string]string
	csrf      string
	http      *http.Client
}

// newPerson creates an active user through the admin API and signs them in.
func newPerson(t *testing.T, label string) *person {
	t.Helper()
	email := fmt.Sprintf("%s-%s@example.test", label, randomHex(4))
	id := createThroughAPI(t, "/api/v1/users", map[string]any{"email": email, "name": label, "password": storyPassword, "must_change_password": false})
	p := &person{ID: id, Email: email, base: accServer.URL, cookies: map[string]string{},
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	var session struct {
		CSRF string `json:"csrf_token"`
	}
	if status, err := p.call(http.MethodPost, "/api/v1/session", map[string]string{"email": email, "password": storyPassword}, &session); err != nil || status != http.StatusOK {
		t.Fatalf("%s could not sign in: %d %v", email, status, err)
	}
	p.csrf = session.CSRF
	return p
}

// send makes one request with this person's cookies and keeps the cookies the answer sets.
func (p *person) send(method, target string, body io.Reader, headers map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var jar []string
	for name, value := range p.cookies {
		jar = append(jar, name+"="+value)
	}
	if len(jar) > 0 {
		req.Header.Set("Cookie", strings.Join(jar, "; "))
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(p.cookies, c.Name)
		} else {
			p.cookies[c.Name] = c.Value
		}
	}
	return resp, raw, err
}

// call is a JSON call to the REST API as this person; a non-2xx status is returned, not an error.
func (p *person) call(method, path string, in, out any) (int, error) {
	headers := map[string]string{"Accept": "application/json"}
	var body io.Reader
	if in != nil {
		payload, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(payload)
		headers["Content-Type"] = "application/json"
	}
	if method != http.MethodGet && p.csrf != "" {
		headers["X-CSRF-Token"] = p.csrf
	}
	resp, raw, err := p.send(method, p.base+path, body, headers)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode < 300 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding %s %s: %w: %s", method, path, err, raw)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		return resp.StatusCode, fmt.Errorf("%s %s answered %d: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// oidcClient is an application as a relying party knows it.
type oidcClient struct {
	ID, Secret, RedirectURI string
}

// signInTo runs the authorization code flow with PKCE for app and returns the verified ID token's
// claims and what userinfo answers for the access token.
func (p *person) signInTo(app oidcClient) (idToken, userinfo map[string]any, err error) {
	var discovery struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Userinfo      string `json:"userinfo_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	if err := getJSON(p.base+"/oidc/.well-known/openid-configuration", &discovery); err != nil {
		return nil, nil, err
	}
	verifier, state, nonce := randomHex(32), randomHex(16), randomHex(16)
	challenge := sha256.Sum256([]byte(verifier))
	query := url.Values{
		"client_id": {app.ID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"}, "scope": {"openid email profile"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"}, "state": {state}, "nonce": {nonce},
	}
	callback, err := p.browse(discovery.Authorization + "?" + query.Encode())
	if err != nil {
		return nil, nil, err
	}
	if callback.Query().Get("state") != state || callback.Query().Get("code") == "" {
		return nil, nil, fmt.Errorf("the callback carries no code for our state: %s", callback)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")}, "redirect_uri": {app.RedirectURI}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, discovery.Token, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(app.ID), url.QueryEscape(app.Secret))
	var tokens struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := doJSON(req, &tokens); err != nil {
		return nil, nil, fmt.Errorf("token endpoint: %w", err)
	}
	if idToken, err = verifyEdDSAJWT(discovery.JWKS, tokens.IDToken); err != nil {
		return nil, nil, err
	}
	if idToken["nonce"] != nonce || idToken["aud"] != app.ID {
		return nil, nil, fmt.Errorf("the ID token is not for this sign-in: %v", idToken)
	}
	req, _ = http.NewRequest(http.MethodGet, discovery.Userinfo, nil)
	req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	err = doJSON(req, &userinfo)
	return idToken, userinfo, err
}

var (
	formAction  = regexp.MustCompile(`(?i)<form[^>]*action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`(?i)<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// browse follows the server's redirects from target, submits the login form and the consent page
// when they appear, and returns the redirect that leaves the server (the application's callback).
func (p *person) browse(target string) (*url.URL, error) {
	current, _ := url.Parse(target)
	method, body := http.MethodGet, ""
	for hops := 0; hops < 20; hops++ {
		headers := map[string]string{}
		if body != "" {
			headers["Content-Type"] = "application/x-www-form-urlencoded"
		}
		resp, raw, err := p.send(method, current.String(), strings.NewReader(body), headers)
		if err != nil {
			return nil, err
		}
		if location := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && location != "" {
			next, err := current.Parse(location)
			if err != nil {
				return nil, err
			}
			if next.Host != current.Host {
				return next, nil
			}
			current, method, body = next, http.MethodGet, ""
			continue
		}
		page := string(raw)
		action := formAction.FindStringSubmatch(page)
		if action == nil {
			return nil, fmt.Errorf("stopped at %s (%d) without a form: %.500s", current, resp.StatusCode, page)
		}
		fields := url.Values{}
		for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
			fields.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		switch {
		case strings.Contains(page, `name="password"`):
			fields.Set("email", p.Email)
			fields.Set("password", storyPassword)
		case strings.Contains(page, `name="decision"`):
			fields.Set("decision", "approve")
		default:
			return nil, fmt.Errorf("stopped at an unexpected page %s: %.500s", current, page)
		}
		next, err := current.Parse(html.UnescapeString(action[1]))
		if err != nil {
			return nil, err
		}
		current, method, body = next, http.MethodPost, fields.Encode()
	}
	return nil, fmt.Errorf("too many redirects")
}

func getJSON(target string, out any) error {
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	return doJSON(req, out)
}

func doJSON(req *http.Request, out any) error {
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s answered %d: %s", req.Method, req.URL, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// verifyEdDSAJWT checks a JWT's Ed25519 signature against the issuer's JWKS and returns its claims
// (Interim signs with EdDSA by default).
func verifyEdDSAJWT(jwksURI, jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %q", jwt)
	}
	var header struct{ Alg, Kid string }
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "EdDSA" {
		return nil, fmt.Errorf("expected an EdDSA JWT, header %+v (%v)", header, err)
	}
	var jwks struct {
		Keys []struct{ Kid, Kty, Crv, X string }
	}
	if err := getJSON(jwksURI, &jwks); err != nil {
		return nil, err
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	for _, key := range jwks.Keys {
		if key.Kid != header.Kid || key.Crv != "Ed25519" {
			continue
		}
		public, err := base64.RawURLEncoding.DecodeString(key.X)
		if err != nil {
			return nil, err
		}
		if !ed25519.Verify(ed25519.PublicKey(public), []byte(parts[0]+"."+parts[1]), signature) {
			return nil, fmt.Errorf("the JWT's signature does not verify")
		}
		var claims map[string]any
		return claims, decodeSegment(parts[1], &claims)
	}
	return nil, fmt.Errorf("kid %q is not in the JWKS", header.Kid)
}

func decodeSegment(segment string, out any) error {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

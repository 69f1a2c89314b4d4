package provider

import "context"

// Extra request headers travel in the context, so the one request path (Client.Do) serves the
// few calls that need one, such as If-Match on a template PATCH, without another signature.
type requestHeadersKey struct{}

// withRequestHeader returns ctx with one more header for the API calls made with it.
func withRequestHeader(ctx context.Context, name, value string) context.Context {
	headers := map[string]string{name: value}
	for k, v := range requestHeaders(ctx) {
		if _, set := headers[k]; !set {
			headers[k] = v
		}
	}
	return context.WithValue(ctx, requestHeadersKey{}, headers)
}

// requestHeaders are the headers withRequestHeader added to ctx.
func requestHeaders(ctx context.Context) map[string]string {
	headers, _ := ctx.Value(requestHeadersKey{}).(map[string]string)
	return headers
}

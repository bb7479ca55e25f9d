// A workload for the node tests: answers every HTTP request with its Pod's name, and with -get URL fetches
// one URL and prints the status or the error (how a test makes a Pod try a connection); -ca and -token-file
// make that request as the Pod's service account, trusting the cluster's CA.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address to serve on")
	get := flag.String("get", "", "fetch this URL once, print the outcome and exit")
	resolve := flag.String("resolve", "", "look this name up once, print the addresses and exit")
	timeout := flag.Duration("timeout", 3*time.Second, "timeout of -get and -resolve")
	caFile := flag.String("ca", "", "with -get: trust only this CA bundle")
	tokenFile := flag.String("token-file", "", "with -get: send this file's content as a bearer token")
	repeat := flag.Int("repeat", 1, "with -get: try this many times, a second apart, printing each outcome with its time since start")
	delay := flag.Duration("delay", 0, "with -get or -resolve: wait this long first (until the node's rules know this Pod)")
	flag.Parse()
	if *get != "" || *resolve != "" {
		time.Sleep(*delay)
	}
	switch {
	case *get != "":
		c := http.Client{Timeout: *timeout}
		req, err := http.NewRequest(http.MethodGet, *get, nil)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		if *caFile != "" {
			pem, err := os.ReadFile(*caFile)
			if err != nil {
				fmt.Println("error:", err)
				os.Exit(2)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		if *tokenFile != "" {
			token, err := os.ReadFile(*tokenFile)
			if err != nil {
				fmt.Println("error:", err)
				os.Exit(2)
			}
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		}
		if *repeat > 1 {
			// A connection's fate over a Pod's first seconds: whether a rule is in place from the start or only later.
			start := time.Now()
			for i := 0; i < *repeat; i++ {
				at := time.Since(start).Seconds()
				r, err := c.Do(req)
				if err != nil {
					fmt.Printf("+%.1fs error: %v\n", at, err)
				} else {
					r.Body.Close()
					fmt.Printf("+%.1fs status: %d\n", at, r.StatusCode)
				}
				time.Sleep(time.Second)
			}
			return
		}
		r, err := c.Do(req)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		fmt.Printf("status: %d\n%s\n", r.StatusCode, b)
		return
	case *resolve != "":
		r := net.Resolver{}
		ctx, cancel := contextWithTimeout(*timeout)
		defer cancel()
		addrs, err := r.LookupHost(ctx, *resolve)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("addresses:", addrs)
		return
	}
	name, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, "hello from %s\n", name) })
	srv := &http.Server{Addr: *listen, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

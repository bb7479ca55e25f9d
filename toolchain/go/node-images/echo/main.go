// A workload for the node tests: answers every HTTP request with its Pod's name, and with -get URL fetches
// one URL and prints the status or the error (how a test makes a Pod try a connection).
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address to serve on")
	get := flag.String("get", "", "fetch this URL once, print the outcome and exit")
	resolve := flag.String("resolve", "", "look this name up once, print the addresses and exit")
	timeout := flag.Duration("timeout", 3*time.Second, "timeout of -get and -resolve")
	flag.Parse()
	switch {
	case *get != "":
		c := http.Client{Timeout: *timeout}
		r, err := c.Get(*get)
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

// The YAML language host as the toolchain builds it: pulumi-yaml's own server, started so that it loads
// package schemas through the engine's loader (the one the CLI serves) instead of an in-process plugin host.
//
// Why: pulumi-yaml v1.25.0's command starts that in-process host, compiled against Pulumi SDK v3.206. For a
// package given by path (a `packages:` entry, `pulumi package add <dir>`) it launches the package's language
// host itself, with a -root flag the pinned v3.259 Node.js language host no longer accepts, so no YAML program
// could use a Node.js component package. The engine's loader runs plugins the way the pinned CLI does.
// pulumi-yaml's own tests run the server in this mode.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/pulumi/pulumi-yaml/pkg/server"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible endpoint to send traces to")
	// Accepted and ignored, as upstream does: engines of either age may pass them.
	flag.String("root", "", "unused")
	flag.String("compiler", "", "unused")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-yaml", "pulumi-language-yaml", *tracing)

	var engine string
	var stop chan bool
	if flag.NArg() > 0 {
		engine = flag.Arg(0)
		stop = watchEngine(engine)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, server.NewLanguageHost(engine, *tracing, true /* the engine's loader */))
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the language host: %w", err))
	}
	// The engine reads the port from the first line.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped: %w", err))
	}
}

// watchEngine closes the returned channel when the engine stops answering health checks or on SIGINT.
func watchEngine(engine string) chan bool {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		cancel()
		close(stop)
	}()
	if err := rpcutil.Healthcheck(ctx, engine, 5*time.Minute, cancel); err != nil {
		cmdutil.Exit(fmt.Errorf("engine health check: %w", err))
	}
	return stop
}

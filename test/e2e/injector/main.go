// Command istio-injector serves Istio's own sidecar injection webhook
// (istio.io/istio/pkg/kube/inject) outside istiod, for sidecar-guard's end-to-end suite.
// It reads what istiod would read: the injection config and values of the
// istio-sidecar-injector ConfigMap and the mesh config of the istio ConfigMap, as files
// rendered from Istio's own istio-discovery chart of the same release.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/kube/inject"
)

func main() {
	configFile := flag.String("config", "", "injection config (istio-sidecar-injector ConfigMap, key config)")
	valuesFile := flag.String("values", "", "injection values (istio-sidecar-injector ConfigMap, key values)")
	meshFile := flag.String("mesh", "", "mesh config (istio ConfigMap, key mesh)")
	addr := flag.String("listen", "127.0.0.1:0", "address to serve HTTPS on")
	certFile := flag.String("cert", "", "serving certificate (PEM)")
	keyFile := flag.String("key", "", "serving key (PEM)")
	revision := flag.String("revision", "default", "the istio.io/rev this injector serves")
	native := flag.Bool("native-sidecars", false, "inject istio-proxy as a native sidecar (sets ENABLE_NATIVE_SIDECARS=true, as istiod's env does)")
	flag.Parse()
	if *native {
		// pilot/pkg/features reads the variable on every injection, so setting it here is what
		// istiod's deployment env does.
		if err := os.Setenv("ENABLE_NATIVE_SIDECARS", "true"); err != nil {
			log.Fatalf("istio-injector: %v", err)
		}
	}
	if *configFile == "" || *valuesFile == "" || *meshFile == "" || *certFile == "" || *keyFile == "" {
		log.Fatal("istio-injector: --config, --values, --mesh, --cert and --key are required")
	}

	meshConfig, err := mesh.ReadMeshConfig(*meshFile)
	if err != nil {
		log.Fatalf("istio-injector: reading mesh config %s: %v", *meshFile, err)
	}
	store := model.NewFakeStore()
	env := &model.Environment{Watcher: meshwatcher.NewTestWatcher(meshConfig), ConfigStore: store}
	env.SetPushContext(&model.PushContext{ProxyConfigs: model.GetProxyConfigs(store, meshConfig)})

	watcher, err := inject.NewFileWatcher(*configFile, *valuesFile)
	if err != nil {
		log.Fatalf("istio-injector: watching %s and %s: %v", *configFile, *valuesFile, err)
	}
	mux := http.NewServeMux()
	wh, err := inject.NewWebhook(inject.WebhookParameters{Watcher: watcher, Env: env, Mux: mux, Revision: *revision})
	if err != nil {
		log.Fatalf("istio-injector: %v", err)
	}
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	stop := make(chan struct{})
	wh.Run(stop)

	server := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("istio-injector: serving on https://%s (revision %s, native sidecars %v)", *addr, *revision, *native)
	log.Fatal(server.ListenAndServeTLS(*certFile, *keyFile))
}

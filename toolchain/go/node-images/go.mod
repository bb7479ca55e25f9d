module hardened-cluster/node-images

go 1.26

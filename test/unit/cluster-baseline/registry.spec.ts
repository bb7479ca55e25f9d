import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { imageAllowed, imageRegistry, validateRegistry } from "../../../components/cluster-baseline";
import { IMAGE_TABLE } from "./image-table";

describe("cluster-baseline image registry derivation", () => {
    for (const [image, registry] of IMAGE_TABLE) {
        it(`${image} -> ${registry}`, () => assert.equal(imageRegistry(image), registry));
    }

    it("allows exactly the images whose registry is listed", () => {
        const allowed = ["registry.k8s.io", "docker.io"];
        assert.ok(imageAllowed("nginx", allowed));
        assert.ok(imageAllowed("registry.k8s.io/pause:3.10", allowed));
        assert.ok(!imageAllowed("quay.io/x/y", allowed));
        assert.ok(!imageAllowed("registry.k8s.io.evil.com/pause", allowed));
        assert.ok(!imageAllowed("evil.com/registry.k8s.io/pause", allowed));
        assert.ok(!imageAllowed("index.docker.io/library/nginx", allowed), "aliases fail closed");
        assert.ok(!imageAllowed("nginx", ["registry.k8s.io"]), "a bare name is Docker Hub, not the first listed registry");
    });

    it("accepts registry hosts with an optional port and refuses anything else", () => {
        for (const ok of ["registry.k8s.io", "localhost", "localhost:5000", "10.0.0.5:5000", "my-registry.example.com"]) {
            assert.equal(validateRegistry("k", ok), ok);
        }
        for (const bad of ["https://quay.io", "quay.io/org", "Quay.io", "quay.io:0", "quay.io:99999", "", "quay..io", "a:1:2"]) {
            assert.throws(() => validateRegistry("hc.allowedRegistries[1]", bad), (e: unknown) => e instanceof ConfigError && e.message.includes("hc.allowedRegistries[1]"), bad);
        }
    });
});

// The images a worker needs before its first Pod: the Pod sandbox's pause and the cluster's DNS. No registry is
// assumed reachable and none is trusted by tag: the stack publishes the toolchain's OCI archives with the
// binaries (binaries.ts: under their SHA-256, checked at boot), and a oneshot unit imports them into containerd
// before the kubelet starts, pinned so the kubelet's image garbage collection never removes them. Each image's
// name is the one its archive carries, read here, so what the Deployment names is what containerd holds.
import * as fs from "node:fs";
import * as path from "node:path";
import { imageRegistry, type PlatformRegistry } from "../../components/cluster-baseline";
import { fail } from "../../components/common";
import { AWS_IMAGE_DIR, PublishedBinary } from "./binaries";
import { CONTAINERD_ENDPOINT, CONTAINERD_UNIT } from "./containerd";
import { FETCH_UNIT } from "./secrets";
import { execLine, type UnitFile, wantsAfter } from "./systemd";

export const NODE_IMAGES = ["pause", "coredns"] as const;
export type NodeImage = (typeof NODE_IMAGES)[number];
/** Image names by role, as containerd holds them once imported. */
export type NodeImageNames = Record<NodeImage, string>;

export const NODE_IMAGES_UNIT = "node-images";
/** The distribution's containerd package installs ctr here (AL2023 and Debian alike). */
export const CTR = "/usr/bin/ctr";
/** The containerd namespace the CRI plugin, and so the kubelet, sees. */
export const CRI_NAMESPACE = "k8s.io";
/** containerd's CRI label that marks an image pinned: the kubelet never garbage-collects it. */
export const PINNED_LABEL = "io.cri-containerd.pinned=pinned";
/** The annotation `ctr images import` names an OCI archive's image by. */
const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";
const IMAGE_NAME = /^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_.-]{1,128})?$/;

export function nodeImagePath(image: NodeImage): string {
    return path.join(AWS_IMAGE_DIR, `${image}.tar`);
}

export function nodeImagePaths(): string[] {
    return NODE_IMAGES.map(nodeImagePath);
}

/** One file's bytes from a tar archive (ustar headers; the archives here are small and flat). */
function tarEntry(file: string, name: string): Buffer | undefined {
    const fd = fs.openSync(file, "r");
    try {
        const header = Buffer.alloc(512);
        for (let offset = 0; fs.readSync(fd, header, 0, 512, offset) === 512 && header[0] !== 0;) {
            const entry = header.toString("utf8", 0, 100).replace(/\0.*$/s, "").replace(/^\.\//, "");
            const size = parseInt(header.toString("utf8", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8);
            if (!Number.isFinite(size) || size < 0) return undefined;
            if (entry === name) {
                const body = Buffer.alloc(size);
                return fs.readSync(fd, body, 0, size, offset + 512) === size ? body : undefined;
            }
            offset += 512 + Math.ceil(size / 512) * 512;
        }
        return undefined;
    } finally {
        fs.closeSync(fd);
    }
}

/** The one image an OCI archive holds, by the name its index gives it; throws saying what is wrong. */
export function archiveImageName(file: string): string {
    let index: { manifests?: { annotations?: Record<string, string> }[] };
    try {
        const raw = tarEntry(file, "index.json");
        if (!raw) throw new Error("it has no index.json");
        index = JSON.parse(raw.toString("utf8"));
    } catch (e) {
        throw new Error(`${file} is not an OCI image archive: ${(e as Error).message}`);
    }
    const names = (index.manifests ?? []).map((m) => m.annotations?.[IMAGE_NAME_ANNOTATION]);
    if (names.length !== 1 || typeof names[0] !== "string" || !IMAGE_NAME.test(names[0])) {
        throw new Error(`${file} must hold one image named by ${IMAGE_NAME_ANNOTATION}; its index names ${JSON.stringify(names)}`);
    }
    return names[0];
}

/** The published images' names, or undefined when the stack publishes none (the AMI provides the binaries). */
export function nodeImageNames(k: string, published: readonly PublishedBinary[]): NodeImageNames | undefined {
    const found = NODE_IMAGES.map((i) => published.find((p) => p.nodePath === nodeImagePath(i)));
    if (found.every((f) => f === undefined)) return undefined;
    return Object.fromEntries(NODE_IMAGES.map((image, i) => {
        const f = found[i];
        if (!f) fail(k, undefined, `${image}.tar is not published; the workers need both ${NODE_IMAGES.join(" and ")}`);
        try {
            return [image, archiveImageName(f.localPath)];
        } catch (e) {
            return fail(k, f.localPath, (e as Error).message);
        }
    })) as NodeImageNames;
}

/** The argv that imports one archive into the kubelet's namespace of containerd, then pins what it imported. */
export function importArgv(image: NodeImage, name: string): string[][] {
    const ctr = [CTR, "--address", CONTAINERD_ENDPOINT.replace(/^unix:\/\//, ""), "--namespace", CRI_NAMESPACE, "images"];
    return [[...ctr, "import", nodeImagePath(image)], [...ctr, "label", name, PINNED_LABEL]];
}

/**
 * Imports the fetched archives once containerd answers, before the kubelet; again on every boot, which is
 * idempotent and puts back an image someone removed.
 */
export function nodeImagesUnit(names: NodeImageNames): UnitFile {
    return {
        Unit: {
            Description: "Import the Pod sandbox and cluster DNS images the stack published into containerd",
            Requires: [CONTAINERD_UNIT, FETCH_UNIT],
            After: [CONTAINERD_UNIT, FETCH_UNIT],
        },
        Service: {
            Type: "oneshot",
            RemainAfterExit: true,
            ExecStart: { each: NODE_IMAGES.flatMap((i) => importArgv(i, names[i]).map(execLine)) },
        },
        Install: { WantedBy: "multi-user.target" },
    };
}

/** The kubelet starts after the import: its first sandbox needs pause. A failed import still lets it report why. */
export function withNodeImages(unit: UnitFile): UnitFile {
    return wantsAfter(unit, `${NODE_IMAGES_UNIT}.service`);
}

/**
 * The registries the node images are named under, for the admission allow-list: the workers' containerd already
 * holds these images, so Pods run them without a pull. `setting` is the key that publishes them.
 */
export function nodeImageRegistries(images: readonly string[], setting: string): PlatformRegistry[] {
    return [...new Set(images.map(imageRegistry))].map((registry) => ({
        registry, setting, serves: `images each worker imports from the stack's digest-checked archives (${NODE_IMAGES.join(", ")}); nothing is pulled from it`,
    }));
}

/*
 * The one import of the typed Kubernetes objects. cdk8s-plus-27 targets Kubernetes 1.27 and is no
 * longer updated upstream; a newer cdk8s-plus (or a `cdk8s import k8s`) replaces this line only.
 */
export * from 'cdk8s-plus-27/lib/imports/k8s.js';

import { describe, expect, it } from 'vitest';
import * as argo from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as discovery from 'kubernetes-models/discovery.k8s.io/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { fixtureNames } from './support/render.js';
import type { AnyObject } from './support/k3s.js';
import { fixtureK3sTree } from './support/k3s-fixtures.js';

/** The model class of every apiVersion the k3s target renders, from the Kubernetes and ArgoCD schemas. */
const MODELS: Record<string, Record<string, new (data: AnyObject) => { validate(): void }>> = {
  v1: core as AnyObject,
  'apps/v1': apps as AnyObject,
  'autoscaling/v2': autoscaling as AnyObject,
  'batch/v1': batch as AnyObject,
  'discovery.k8s.io/v1': discovery as AnyObject,
  'networking.k8s.io/v1': networking as AnyObject,
  'rbac.authorization.k8s.io/v1': rbac as AnyObject,
  'argoproj.io/v1alpha1': argo as AnyObject,
};

/** Multus ships its CRD without a schema for `spec.config`: it must be a CNI config in JSON. */
function validateNetworkAttachment(object: AnyObject): void {
  const config = JSON.parse(object.spec.config);
  for (const key of ['cniVersion', 'name', 'type', 'master', 'ipam']) if (!(key in config)) throw new Error(`spec.config needs ${key}`);
  if (!/^vlan\d{1,4}$/.test(config.master)) throw new Error(`master ${config.master} is not the VLAN sub-interface vlan<id>`);
}

function validate(object: AnyObject): void {
  if (object.apiVersion === 'k8s.cni.cncf.io/v1' && object.kind === 'NetworkAttachmentDefinition') return validateNetworkAttachment(object);
  const Model = MODELS[object.apiVersion]?.[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

describe('every rendered object validates against the Kubernetes and ArgoCD schemas', () => {
  it.each(['reference', ...fixtureNames('valid')])('%s', async (name) => {
    const tree = await fixtureK3sTree(name);
    const errors: string[] = [];
    for (const object of tree.objects) {
      try {
        validate(object);
      } catch (err) {
        errors.push(`${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(errors).toEqual([]);
    // Something was checked: even the lean one-box vps renders some 100 objects.
    expect(tree.objects.length).toBeGreaterThan(80);
  });

  it('the check can fail: a broken Deployment and Application are rejected', async () => {
    const tree = await fixtureK3sTree('reference');
    const deployment = tree.get('Deployment', 'edge', 'caddy');
    expect(() => validate({ ...deployment, spec: { ...deployment.spec, replicas: 'one' } })).toThrow(/replicas must be integer/);
    const app = tree.get('Application', 'argocd', 'llm');
    expect(() => validate({ ...app, spec: { ...app.spec, destination: 'in-cluster' } })).toThrow(/destination/);
    expect(() => validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } })).toThrow('no schema for example.com/v1 Widget');
  });
});

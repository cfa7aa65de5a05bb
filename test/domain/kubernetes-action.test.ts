import { describe, expect, it } from "vitest";
import {
  classifyKubernetesAction,
  KUBERNETES_GRAMMAR,
  parseKubernetesAction,
} from "../../src/domain/actions/kubernetes-action.js";

const teamA = { namespace: "team-a" };

describe("parseKubernetesAction", () => {
  it("reads rollout restart of deployments, statefulsets and daemonsets, by full or short name", () => {
    for (const [text, kind] of [
      ["rollout restart deployment/web", "deployment"],
      ["rollout restart deploy/web", "deployment"],
      ["kubectl rollout restart deployments web", "deployment"],
      ["rollout restart statefulset/web", "statefulset"],
      ["rollout restart sts/web", "statefulset"],
      ["rollout restart daemonset/web", "daemonset"],
      ["  rollout   restart\tds/web \n", "daemonset"],
    ] as const)
      expect(parseKubernetesAction(text), text).toEqual({
        operation: { op: "restart", kind, name: "web", namespace: null },
      });
  });

  it("reads scale with --replicas=n or --replicas n, and the namespace in each spelling", () => {
    expect(parseKubernetesAction("scale deployment/web --replicas=3")).toEqual({
      operation: { op: "scale", kind: "deployment", name: "web", replicas: 3, namespace: null },
    });
    for (const text of [
      "scale sts/db --replicas 0 -n payments",
      "scale -n payments statefulset/db --replicas=0",
      "scale statefulset/db --namespace=payments --replicas=0",
      "scale statefulset db --namespace payments --replicas 0",
    ])
      expect(parseKubernetesAction(text), text).toEqual({
        operation: { op: "scale", kind: "statefulset", name: "db", replicas: 0, namespace: "payments" },
      });
    expect(parseKubernetesAction("scale deploy/web --replicas=1000")).toMatchObject({ operation: { replicas: 1000 } });
  });

  it("reads delete pod <name> and delete pod/<name>", () => {
    for (const text of ["delete pod web-7d4f9c-abcde", "delete pod/web-7d4f9c-abcde", "delete po web-7d4f9c-abcde"])
      expect(parseKubernetesAction(text), text).toEqual({
        operation: { op: "delete", kind: "pod", name: "web-7d4f9c-abcde", namespace: null },
      });
  });

  it("refuses everything else, saying what it refuses and what Sesame accepts", () => {
    for (const [text, why] of [
      ["", /no operation/],
      ["get pods", /"get pods" is not an operation Sesame runs/],
      ["rollout undo deployment/web", /"rollout undo" is not an operation/],
      ["exec -it web -- sh", /the flag -it is not accepted/],
      ["delete pod web --force", /the flag --force is not accepted/],
      ["delete pod web --grace-period=0", /the flag --grace-period is not accepted/],
      ["delete deployment/web", /deletes pods only, not a deployment/],
      ["delete pod a b", /exactly one object/],
      ["delete pod/a pod/b", /exactly one object/],
      ["delete pods --all", /the flag --all is not accepted/],
      ["rollout restart deployment", /exactly one object/],
      ["rollout restart pod/web", /not a pod/],
      ["rollout restart service/web", /"service" is not an object type/],
      ["scale daemonset/web --replicas=2", /scale takes a deployment or statefulset, not a daemonset/],
      ["scale deployment/web", /scale needs --replicas/],
      ["scale deployment/web --replicas=1001", /from 0 to 1000/],
      ["scale deployment/web --replicas=-1", /--replicas needs a value/],
      ["scale deployment/web --replicas=2.5", /whole number/],
      ["scale deployment/web --replicas=3 --replicas=4", /--replicas is given twice/],
      ["rollout restart deployment/web --replicas=3", /--replicas belongs to scale only/],
      ["delete pod web -n a -n b", /-n is given twice/],
      ["delete pod web -n", /-n needs a value/],
      ["delete pod web -n Team_A", /"Team_A" is not a namespace name/],
      ["delete pod web --namespace=a=b", /"a=b" is not a namespace name/],
      ["delete pod Web", /"Web" is not a Kubernetes object name/],
      ["delete pod web; kubectl delete ns prod", /"web;" has characters Sesame does not accept/],
      ["delete pod $(whoami)", /has characters Sesame does not accept/],
      ["delete pod web | sh", /"\|" has characters/],
      ["delete pod 'web'", /has characters/],
    ] as const) {
      const parsed = parseKubernetesAction(text);
      expect(parsed, text).toEqual({ refusal: expect.stringMatching(why) });
      expect((parsed as { refusal: string }).refusal, text).toContain(KUBERNETES_GRAMMAR);
    }
  });
});

describe("classifyKubernetesAction", () => {
  it("puts each operation in its class, with why in words and the namespace it runs in", () => {
    expect(classifyKubernetesAction("rollout restart deployment/web", teamA)).toEqual({
      class: "restart",
      why: "restarts deployment web in namespace team-a (its pods are replaced one by one)",
    });
    expect(classifyKubernetesAction("scale deployment/web --replicas=3", teamA)).toEqual({
      class: "scale",
      why: "sets deployment web in namespace team-a to 3 replicas",
    });
    expect(classifyKubernetesAction("delete pod web-abc -n team-a", teamA)).toEqual({
      class: "delete",
      why: "deletes pod web-abc in namespace team-a (a controller that owns it starts a new one)",
    });
  });

  it("keeps a namespaced target's actions in its namespace, and asks a cluster-wide target for one", () => {
    expect(classifyKubernetesAction("delete pod web -n team-b", teamA)).toEqual({
      class: "refused",
      why: "this resource acts in namespace team-a only, not team-b",
    });
    expect(classifyKubernetesAction("delete pod web", { clusterWide: true })).toEqual({
      class: "refused",
      why: "this resource is cluster-wide: say the namespace with -n <namespace>",
    });
    expect(classifyKubernetesAction("delete pod web -n team-b", { clusterWide: true }).class).toBe("delete");
    expect(classifyKubernetesAction("get pods", teamA).class).toBe("refused");
  });
});

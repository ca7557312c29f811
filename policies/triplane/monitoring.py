"""Monitoring: every alert reaches someone, and a prod use case is never unwatched.

Alerts are read from the plan as each cloud registers them: CloudWatch metric alarms, Azure Monitor
metric alerts, Cloud Monitoring alert policies (metric or PromQL conditions), and Prometheus alerting
rules wherever they are evaluated: an Amazon Managed Service for Prometheus rule groups namespace, an
Azure Monitor Prometheus rule group, or the Prometheus Operator's `PrometheusRule` on a cluster's own
Prometheus. Each names its use case the way the resource carries it: the `use-case` tag (AWS, Azure),
the `use-case` user label (Google Cloud), or the `triplane.io/use-case` label (Kubernetes). A use case is observable
when Triplane can read its signals: a managed service's metrics, a model server's, or (SaaS) the AI
gateway's in front of it; a SaaS provider reports nothing to us.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import (
    ADVISORY,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    Unknown,
    as_list,
    environment_spec,
    get,
    is_unknown,
    json_document,
    stack_policy,
)
from .stages import stage

AWS_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
AZURE_ALERT = "azure-native:monitor:MetricAlert"
GCP_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
AMP_RULES = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
AZURE_PROMETHEUS_RULES = "azure-native:alertsmanagement:PrometheusRuleGroup"
PROMETHEUS_RULE_TYPES = (PROMETHEUS_RULE, AMP_RULES, AZURE_PROMETHEUS_RULES)
"""Where Prometheus alerting rules live: a cluster's own Prometheus, or a cloud's managed Prometheus."""
USE_CASE_KEY = "use-case"
K8S_USE_CASE_LABEL = "triplane.io/use-case"

NOTIFY_FIELDS = {AWS_ALARM: "alarmActions", AZURE_ALERT: "actions", GCP_POLICY: "notificationChannels"}
"""Where each cloud's alert names whom it tells."""


def alerting_rules(type_: str, props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The alerting rules (`alert`, its expression, `labels`, `annotations`) a Prometheus rule resource
    holds: a PrometheusRule's groups, an AMP namespace's rule file (JSON, which is YAML), an Azure rule
    group's rules. Unknown or unreadable content holds none."""
    if type_ == AZURE_PROMETHEUS_RULES:
        groups: Any = [{"rules": props.get("rules")}]
    elif type_ == AMP_RULES:
        try:
            document = json_document(props.get("data"), "data")
        except Unknown:
            return []
        groups = document.get("groups") if isinstance(document, Mapping) else None
    else:
        groups = get(props, "spec.groups")
    return [
        rule
        for group in as_list(groups)
        if isinstance(group, Mapping)
        for rule in as_list(group.get("rules"))
        if isinstance(rule, Mapping) and rule.get("alert")
    ]


def _use_case(resource: Res) -> str | None:
    if resource.type == PROMETHEUS_RULE:
        labels = get(resource.props, "metadata.labels") or {}
        value = labels.get(K8S_USE_CASE_LABEL) if isinstance(labels, Mapping) else None
    else:
        tags = resource.props.get("userLabels" if resource.type == GCP_POLICY else "tags") or {}
        value = tags.get(USE_CASE_KEY) if isinstance(tags, Mapping) else None
    return str(value) if value and not is_unknown(value) else None


def _observable(declared: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    return declared.get("pattern") != "saas" or bool(spec.get("gateway"))


def _component(resources: list[Res], use_case: str) -> str | None:
    """The URN of the use case's own component (`<stack>-<use case>`), to anchor a finding on."""
    return next((r.urn for r in resources if r.type.startswith("triplane:") and r.name.endswith(f"-{use_case}")), None)


def _declared(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for declared in as_list(spec.get("use_cases")):
        if isinstance(declared, Mapping) and declared.get("name"):
            yield declared


# --- every alert notifies ------------------------------------------------------------------------


def _alerts_notify(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    for resource in resources:
        if resource.type == AZURE_PROMETHEUS_RULES:
            for rule in alerting_rules(resource.type, resource.props):
                actions = rule.get("actions")
                if not is_unknown(actions) and not as_list(actions):
                    yield (
                        f"Prometheus rule {rule.get('alert')} of {resource.name} tells no one: its `actions` are "
                        "empty; fix: act on the environment's action group (monitoring.notify)",
                        resource.urn,
                    )
            continue
        field = NOTIFY_FIELDS.get(resource.type)
        if field is None:
            continue
        targets = resource.props.get(field)
        if is_unknown(targets) or as_list(targets):
            continue
        yield (
            f"{resource.type} {resource.name} tells no one: `{field}` is empty, so it fires into a console nobody "
            "watches; fix: name the environment's channel (monitoring.notify)",
            resource.urn,
        )


# --- prod: a channel, and alerts on every use case --------------------------------------------------


def _prod_watched(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    spec = environment_spec() or {}
    if spec.get("tier") != "prod":
        return
    kind, platform = stage()
    if kind != "use-case" and not get(spec, "monitoring.notify.email"):
        yield (
            "a prod environment names no one to tell when a model misbehaves; fix: add monitoring.notify.email "
            "(Triplane creates a channel per cloud: an SNS topic, an action group, a notification channel)",
            None,
        )
    alerted = {
        u for r in resources if (u := _use_case(r)) is not None and r.type in (*NOTIFY_FIELDS, *PROMETHEUS_RULE_TYPES)
    }
    where = f"monitoring.notify in its platform stack {platform}" if kind == "use-case" else "monitoring.notify"
    for declared in _declared(spec):
        name = str(declared["name"])
        if _observable(declared, spec) and name not in alerted:
            yield (
                f"prod use case {name!r} has no alert: no alarm, metric alert, alert policy or Prometheus rule "
                f"carries its `use-case` tag; fix: set {where}, so Triplane renders its alerts",
                _component(resources, name),
            )


def _saas_unobserved(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    spec = environment_spec() or {}
    if spec.get("tier") != "prod":
        return
    for declared in _declared(spec):
        if not _observable(declared, spec):
            yield (
                f"prod SaaS use case {declared['name']!r} is unobserved: its provider reports no errors, latency or "
                "tokens to us, so no alert or dashboard can show them; fix: serve it through the AI gateway "
                "(`gateway`), whose token and request metrics are its signals",
                _component(resources, str(declared["name"])),
            )


POLICIES = [
    stack_policy(
        name="monitoring-alerts-notify",
        description="Every CloudWatch alarm, Azure Monitor metric alert or Prometheus rule, and Cloud Monitoring "
        "alert policy notifies a channel.",
        check=_alerts_notify,
        severity=MEDIUM,
        remediation="Give the alert the environment's channel (Triplane: monitoring.notify): alarm_actions, an "
        "action group, notification_channels.",
    ),
    stack_policy(
        name="monitoring-prod-alerts",
        description="A prod environment names whom its alerts reach, and every prod use case whose signals "
        "Triplane can read has alerts.",
        check=_prod_watched,
        severity=HIGH,
        remediation="Add monitoring.notify.email to the prod environment (a use-case stack: to its platform "
        "stack); every observable use case then gets its alerts.",
    ),
    stack_policy(
        name="monitoring-saas-unobserved",
        description="A prod SaaS use case outside the AI gateway has no signals (advisory).",
        check=_saas_unobserved,
        severity=LOW,
        enforcement=ADVISORY,
        remediation="Serve the use case through the AI gateway (`gateway`), whose metrics are its signals.",
    ),
]

"""One submission per batch type: resolve names, build the request, POST it with its key.

:func:`submit` is the single entry point; it returns a :class:`SubmissionResult` whose
records are safe to store. Sub-steps that POST derive their keys from the submission's key
(``uuid5(request_id, step)``), so re-running a submission with the same key is idempotent
end to end.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from irpd.moodys import operations
from irpd.moodys.errors import InvalidJobConfiguration
from irpd.moodys.lookups import Lookups
from irpd.moodys.models import SubmissionResult
from irpd.moodys.operations import RequestSpec, names, optional_text, text
from irpd.moodys.refdata import ReferenceData
from irpd.moodys.staging import ImportFileUploader, stage_import_files
from irpd.moodys.transport import Transport
from irpd.moodys.treaties import TreatyReferences, assign_lobs, create_treaty, edm_data_upgrade


@dataclass(frozen=True, slots=True)
class SubmissionContext:
    """What a submitter may use."""

    transport: Transport
    reference: ReferenceData
    lookups: Lookups
    uploader: ImportFileUploader


@dataclass(frozen=True, slots=True)
class Submission:
    """One submission's inputs."""

    config: Mapping[str, Any]
    workflow_name: str
    request_id: uuid.UUID


Submitter = Callable[[SubmissionContext, Submission], Awaitable[SubmissionResult]]


async def _send(
    context: SubmissionContext,
    submission: Submission,
    spec: RequestSpec,
    *,
    resolved: Mapping[str, Any] | None = None,
    steps: list[dict[str, Any]] | None = None,
    synchronous: bool = False,
) -> SubmissionResult:
    response = await context.transport.request(
        spec.method,
        spec.path,
        params=spec.params,
        body=spec.body,
        request_id=submission.request_id,
    )
    created_id = response.location_id()
    request = dict(response.request)
    if resolved:
        request["resolved"] = dict(resolved)
    if steps:
        request["steps"] = steps
    if synchronous:
        record = response.record()
        record["created_id"] = created_id
        return SubmissionResult(None, True, request, record)
    return SubmissionResult(created_id, False, request, response.record(workflow_id=created_id))


async def _create_edm(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    return await _send(context, submission, operations.create_edm(submission.config))


async def _create_portfolio(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    spec = operations.create_portfolio(submission.config)
    return await _send(context, submission, spec, synchronous=True)


async def _mri_import(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    config = submission.config
    portfolio_id = await context.lookups.portfolio_id(
        text(config, "database"), text(config, "portfolio")
    )
    staged = await stage_import_files(
        context.transport,
        context.uploader,
        request_id=submission.request_id,
        accounts_file=text(config, "accounts_file"),
        locations_file=text(config, "locations_file"),
    )
    spec = operations.mri_import(
        config,
        portfolio_id=portfolio_id,
        bucket_id=staged.bucket_id,
        accounts_file_id=staged.accounts_file_id,
        locations_file_id=staged.locations_file_id,
    )
    resolved = {"portfolio_id": portfolio_id}
    return await _send(context, submission, spec, resolved=resolved, steps=staged.steps)


async def _geohaz(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    config = submission.config
    portfolio_id = await context.lookups.portfolio_id(
        text(config, "database"), text(config, "portfolio")
    )
    spec = operations.geohaz(config, portfolio_id=portfolio_id)
    return await _send(context, submission, spec, resolved={"portfolio_id": portfolio_id})


async def _analysis(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    config = submission.config
    operations.check_job_name(submission.workflow_name)
    database = text(config, "database")
    profile = await context.reference.model_profile(text(config, "analysis_profile"))
    output_profile_id = await context.reference.output_profile_id(text(config, "output_profile"))
    event_rate = optional_text(config, "event_rate")
    scheme_id = None
    if event_rate:
        scheme_id = await context.reference.event_rate_scheme_id(
            event_rate, peril_code=profile.peril_code, model_region_code=profile.model_region_code
        )
    elif not profile.is_hd:
        raise InvalidJobConfiguration(
            f"analysis profile {profile.name!r} is DLM and needs an event rate scheme"
        )
    portfolio_id = await context.lookups.portfolio_id(database, text(config, "portfolio"))
    treaty_ids = [await context.lookups.treaty_id(database, t) for t in names(config, "treaties")]
    ids = operations.AnalysisIds(
        portfolio_id=portfolio_id,
        model_profile_id=profile.id,
        output_profile_id=output_profile_id,
        event_rate_scheme_id=scheme_id,
        treaty_ids=tuple(treaty_ids),
    )
    spec = operations.analysis(config, job_name=submission.workflow_name, ids=ids)
    resolved = {
        "portfolio_id": portfolio_id,
        "model_profile_id": profile.id,
        "engine": "HD" if profile.is_hd else "DLM",
        "output_profile_id": output_profile_id,
        "event_rate_scheme_id": scheme_id,
        "treaty_ids": treaty_ids,
    }
    return await _send(context, submission, spec, resolved=resolved)


async def _grouping(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    config = submission.config
    items = names(config, "items")
    if not items:
        raise InvalidJobConfiguration("a grouping job configuration needs at least one item")
    ids = [await context.lookups.result_id(item) for item in items]
    spec = operations.grouping(config, analysis_ids=ids)
    return await _send(context, submission, spec, resolved={"analysis_ids": ids})


async def _export(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    result_id = await context.lookups.result_id(text(submission.config, "name"))
    spec = operations.export_to_rdm(submission.config, analysis_ids=[result_id])
    return await _send(context, submission, spec, resolved={"analysis_ids": [result_id]})


async def _edm_upgrade(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    return await _send(context, submission, edm_data_upgrade(submission.config))


async def _create_treaty(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    """Create the treaty (synchronous), then assign every line of business of its EDM.

    The assignment's key derives from the submission's, so a replay after a crash repeats
    neither step in effect.
    """
    config = submission.config
    database = text(config, "database")
    references = TreatyReferences(context.transport)
    wanted = {
        "treaty type": text(config, "treaty_type"),
        "attachment basis": text(config, "attachment_basis"),
        "attachment level": text(config, "attachment_level"),
        "currency": text(config, "currency"),
    }
    coded = {kind: await references.coded(kind, name, database) for kind, name in wanted.items()}
    cedants = await references.of_edm("cedants", database)
    lobs = await references.of_edm("lobs", database)
    spec = create_treaty(config, coded=coded, cedant=cedants[0], lobs=lobs)
    created = await _send(context, submission, spec, synchronous=True)
    treaty_id = created.response.get("created_id")
    if treaty_id is None:
        raise InvalidJobConfiguration("Moody's created the treaty without telling its id")
    lob_ids = [lob["id"] for lob in lobs]
    assignment = assign_lobs(database, int(treaty_id), lob_ids)
    await context.transport.request(
        assignment.method,
        assignment.path,
        params=assignment.params,
        body=assignment.body,
        request_id=uuid.uuid5(submission.request_id, "assign-lobs"),
    )
    created.request["resolved"] = {**coded, "cedant": cedants[0], "lob_ids": lob_ids}
    return created


async def _generic(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    spec = operations.generic_workflow(submission.config, workflow_name=submission.workflow_name)
    return await _send(context, submission, spec)


SUBMITTERS: Final[Mapping[str, Submitter]] = MappingProxyType(
    {
        "edm_creation": _create_edm,
        "portfolio_creation": _create_portfolio,
        "mri_import": _mri_import,
        "create_reinsurance_treaties": _create_treaty,
        "edm_db_upgrade": _edm_upgrade,
        "geohaz": _geohaz,
        "analysis": _analysis,
        "grouping": _grouping,
        "grouping_rollup": _grouping,
        "export_to_rdm": _export,
        "default": _generic,
        "multi_job": _generic,
    }
)


async def submit(context: SubmissionContext, submission: Submission) -> SubmissionResult:
    """Submit one job configuration according to its ``batch_type``."""
    batch_type = submission.config.get("batch_type")
    submitter = SUBMITTERS.get(batch_type) if isinstance(batch_type, str) else None
    if submitter is None:
        known = ", ".join(sorted(SUBMITTERS))
        raise InvalidJobConfiguration(f"unknown batch_type {batch_type!r}; known: {known}")
    return await submitter(context, submission)

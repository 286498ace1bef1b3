-- Progress of every project by month, from its first report to the month it was completed (or
-- to the last month any contractor reported): completion against the schedule, and money spent
-- against the budget in force at the end of the month. The latest revision of each month's
-- report wins; a month without a report keeps the previous figures and is flagged. Months are
-- Aşgabat months.
with

reports as (

    select * from {{ ref('stg_construction__progress_reports') }}

),

projects as (

    select * from {{ ref('stg_construction__projects') }}

),

milestones as (

    select * from {{ ref('stg_construction__milestones') }}

),

districts as (

    select * from {{ ref('ref_districts') }}

),

calendar_days as (

    {{ calendar_days() }}

),

months as (

    select calendar_days.calendar_date as month_date
    from calendar_days
    where extract(day from calendar_days.calendar_date) = 1

),

latest_reports as (

    select
        reports.*,
        count(*) over (
            partition by reports.project_id, reports.report_month_date
        ) - 1 as resubmission_count

    from reports
    qualify row_number() over (
            partition by reports.project_id, reports.report_month_date
            order by reports.report_revision desc, reports.submitted_at desc
        ) = 1

),

data_through as (

    select max(latest_reports.report_month_date) as data_through_month_date
    from latest_reports

),

latest_projects as (

    select *
    from projects
    qualify row_number() over (
            partition by projects.project_id
            order by projects.updated_at desc, projects.extracted_at desc
        ) = 1

),

project_span as (

    select
        latest_reports.project_id,
        min(latest_reports.report_month_date) as first_month_date,
        min(
            case when latest_reports.completion_pct >= 100 then latest_reports.report_month_date end
        ) as completed_month_date

    from latest_reports
    group by latest_reports.project_id

),

-- A project runs from the month it started by the register (or its first report, if earlier) to
-- the month it was complete by either account: the register's completion date or its first
-- report at 100 %.
project_bounds as (

    select
        project_span.project_id,
        least(
            coalesce(
                cast(date_trunc('month', latest_projects.actual_start_date) as date),
                project_span.first_month_date
            ),
            project_span.first_month_date
        ) as first_month_date,
        least(
            coalesce(
                cast(date_trunc('month', latest_projects.actual_completion_date) as date),
                project_span.completed_month_date
            ),
            coalesce(
                project_span.completed_month_date,
                cast(date_trunc('month', latest_projects.actual_completion_date) as date)
            )
        ) as last_month_date

    from project_span
    inner join latest_projects
        on project_span.project_id = latest_projects.project_id

),

project_months as (

    select
        project_bounds.project_id,
        months.month_date,
        cast(months.month_date + interval '1 month' as date) as next_month_date,
        data_through.data_through_month_date

    from project_bounds
    cross join data_through
    inner join months
        on
            project_bounds.first_month_date <= months.month_date
            and months.month_date <= least(
                data_through.data_through_month_date,
                coalesce(project_bounds.last_month_date, data_through.data_through_month_date)
            )

),

versions_in_force as (

    -- The version entered by the end of the month; before the first version read, the first.
    select
        project_months.project_id,
        project_months.month_date,
        projects.budget_tmt,
        projects.planned_start_date,
        projects.planned_completion_date,
        -- The register is updated in place: a month before the first version read is judged
        -- against a budget and schedule entered after it ended.
        cast({{ local_time('projects.updated_at', "'Asia/Ashgabat'") }} as date)
        >= project_months.next_month_date as is_register_restated

    from project_months
    inner join projects
        on project_months.project_id = projects.project_id
    qualify row_number() over (
            partition by project_months.project_id, project_months.month_date
            order by
                cast({{ local_time('projects.updated_at', "'Asia/Ashgabat'") }} as date)
                >= project_months.next_month_date,
                case
                    when
                        cast({{ local_time('projects.updated_at', "'Asia/Ashgabat'") }} as date)
                        < project_months.next_month_date
                        then projects.updated_at
                end desc,
                projects.updated_at
        ) = 1

),

latest_milestones as (

    select *
    from milestones
    qualify row_number() over (
            partition by milestones.milestone_id
            order by milestones.updated_at desc, milestones.extracted_at desc
        ) = 1

),

milestone_counts as (

    select
        project_months.project_id,
        project_months.month_date,
        count(*) filter (
            where latest_milestones.planned_date < project_months.next_month_date
        ) as milestones_due_count,
        count(*) filter (
            where latest_milestones.actual_date < project_months.next_month_date
        ) as milestones_done_count

    from project_months
    inner join latest_milestones
        on project_months.project_id = latest_milestones.project_id
    group by project_months.project_id, project_months.month_date

),

joined as (

    select
        project_months.project_id,
        project_months.month_date,
        project_months.next_month_date,
        project_months.data_through_month_date,
        latest_reports.progress_report_id,
        latest_reports.report_revision,
        latest_reports.resubmission_count,
        latest_reports.workers_on_site,
        latest_reports.completion_pct as reported_completion_pct,
        latest_reports.spent_to_date_tmt as reported_spent_to_date_tmt

    from project_months
    left join latest_reports
        on
            project_months.project_id = latest_reports.project_id
            and project_months.month_date = latest_reports.report_month_date

),

carried as (

    select
        joined.*,
        -- The last reported figures carried forward; none before the first report.
        {{ last_value_ignoring_nulls('joined.reported_completion_pct') }}
            over project_history as completion_pct,
        {{ last_value_ignoring_nulls('joined.reported_spent_to_date_tmt') }}
            over project_history as spent_to_date_tmt

    from joined
    window project_history as (
        partition by joined.project_id
        order by joined.month_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        cast(carried.project_id as string)
        || '|' || {{ year_month('carried.month_date') }} as progress_month_id,
        carried.month_date,
        carried.project_id,
        latest_projects.project_code,
        latest_projects.project_name,
        latest_projects.project_type,
        latest_projects.customer_name,
        'construction_projects:' || cast(latest_projects.contractor_id as string)
            as enterprise_id,
        districts.province_code,
        latest_projects.district_code,
        versions_in_force.budget_tmt,
        versions_in_force.planned_start_date,
        versions_in_force.planned_completion_date,
        cast(carried.completion_pct as decimal(18, 3)) as completion_pct,
        cast(
            100 * least(
                greatest(
                    {{ days_between(
                        'versions_in_force.planned_start_date', 'carried.next_month_date'
                    ) }}, 0
                ),
                {{ days_between(
                    'versions_in_force.planned_start_date',
                    'versions_in_force.planned_completion_date'
                ) }} + 1
            ) / ({{ days_between(
                'versions_in_force.planned_start_date',
                'versions_in_force.planned_completion_date'
            ) }} + 1)
            as decimal(18, 3)
        ) as planned_completion_pct,
        cast(carried.spent_to_date_tmt as decimal(18, 3)) as spent_to_date_tmt,
        cast(
            carried.spent_to_date_tmt
            - coalesce(
                lag(carried.spent_to_date_tmt) over (
                    partition by carried.project_id order by carried.month_date
                ),
                0
            )
            as decimal(18, 3)
        ) as spent_in_month_tmt,
        case
            when versions_in_force.budget_tmt > 0
                then cast(
                        round(100 * carried.spent_to_date_tmt / versions_in_force.budget_tmt, 1)
                        as decimal(18, 3)
                    )
        end as budget_execution_pct,
        carried.progress_report_id is not null as is_reported,
        carried.progress_report_id,
        carried.report_revision,
        coalesce(carried.resubmission_count, 0) as resubmission_count,
        carried.workers_on_site,
        coalesce(milestone_counts.milestones_due_count, 0) as milestones_due_count,
        coalesce(milestone_counts.milestones_done_count, 0) as milestones_done_count,
        coalesce(carried.completion_pct >= 100, false) as is_completed,
        versions_in_force.is_register_restated,
        carried.data_through_month_date

    from carried
    inner join latest_projects
        on carried.project_id = latest_projects.project_id
    inner join versions_in_force
        on
            carried.project_id = versions_in_force.project_id
            and carried.month_date = versions_in_force.month_date
    left join milestone_counts
        on
            carried.project_id = milestone_counts.project_id
            and carried.month_date = milestone_counts.month_date
    left join districts
        on latest_projects.district_code = districts.district_code

)

select * from final

with

source as (

    select * from {{ source('medicine_facility_reports', 'facility_reports') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as facility_report_id,
        cast(report_month || '-01' as date) as report_month,
        compiled_on as compiled_date,
        'medicine_facility_reports:' || facility_code as enterprise_id,
        facility_code,
        facility_name,
        beds,
        bed_days_used,
        outpatient_visits,
        inpatient_admissions,
        submitted_on as submitted_date,
        _batch_id as batch_id,
        _row_number as batch_row_number,
        _extracted_at as extracted_at

    from source

)

select * from renamed

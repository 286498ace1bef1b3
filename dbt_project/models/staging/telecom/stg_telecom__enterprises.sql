-- The telecom operators in the shape every sector gives dim_enterprises (macros/registers).
{{ operator_register(
    'stg_telecom__operators',
    'telecom_statistics_api',
    'telecom',
    'Agency of Transport and Communications'
) }}

-- expect: compile_error strptime() has no postgres equivalent
select strptime('2024-01-02 10:11', '%Y-%m-%d %H:%M') as parsed

# /report: totals of the staff member and of the store.
staff-ask-period = Report for which period?
staff-button-period-today = Today
staff-button-period-week = 7 days
staff-report-title-today = 📊 Today's report ({ $start } — { $end })
staff-report-title-week = 📊 7-day report ({ $start } — { $end })
staff-report-mine = <b>You ({ $name })</b>
staff-report-store = <b>Store { $store }</b>
staff-report-all-stores = all stores
staff-report-totals =
    Receipts: { $receipts } for { MONEY($sales) }
    Accrued: { POINTS($accrued) } pts
    Redeemed: { POINTS($redeemed) } pts
    Refunds: { MONEY($refunded) } ({ POINTS($reversed) } pts taken back)
    New customers: { $customers }

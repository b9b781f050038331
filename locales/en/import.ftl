# Import and export of a client base (python -m bot import-customers / export-customers).
import-col-line = Line
import-col-outcome = Outcome
import-col-reason = Reason
import-col-surname = Surname
import-col-name = Name
import-col-phone = Phone
import-col-balance = Card balance not carried over
import-col-notes = Notes
import-outcome-card = client with a card by phone
import-outcome-family = family member of a card owner (no card of their own)
import-outcome-no_card_phone = no card: invalid or short phone
import-outcome-no_card_frequent = no card: phone occurs 5 or more times
import-outcome-no_card_unbound = no card: the number is an unbound card
import-outcome-duplicate = repeated row, skipped
import-outcome-already_imported = imported before
import-outcome-error = row error, not imported
import-reason-no_phone = no phone given
import-reason-invalid_phone = "{ $phone }" is not a mobile phone number
import-reason-phone_region = a number of another country: no card for it
import-reason-frequent_phone = the phone occurs { $times ->
        [one] once
       *[other] { $times } times
    } in the file
import-reason-card_unbound = card { $card } exists but belongs to nobody
import-reason-phone_is_card = the phone is already card { $card }: linked to its owner
import-reason-duplicate = the same row is higher up in the file
import-reason-field_count = { $found } fields instead of { $expected }
import-reason-required = the required field { $column } is empty
import-reason-bad_value = wrong value in { $column }: "{ $value }"
import-reason-bad_amount = wrong amount in { $column }: "{ $value }"
import-reason-bad_date = wrong date in { $column }: "{ $value }" (DD.MM.YYYY or DD-MM-YYYY)
import-reason-owner_row_failed = the card owner's row was not written
import-reason-database = the database refused the row: { $detail }
import-reason-unclosed_quote = a quote opened on this line is not closed on it or within { $lines ->
    [one] { $lines } line
   *[other] { $lines } lines
}
import-reason-record_too_long = the line is longer than { $limit } KiB
import-note-extra_phone_dropped = invalid extra phone, not kept
import-note-email_dropped = invalid email, not kept
import-note-legacy_card_not_digits = the discount card number is not digits, no card made
import-note-legacy_card_taken = the discount card number is taken, no card made
import-note-balance_not_carried = no card of their own: card balance and orders sum not carried over
import-summary-title = Import of { $file }: { $rows } rows (dry run: { $dry })
import-summary-count = { $outcome }: { $count }
import-summary-written = Written: { $customers } customers, { $cards } cards ({ $legacy } legacy numbers), { $links } links, { $points } opening points
import-summary-rounded = Fractions dropped when rounding to whole points: { POINTS($points) }
import-summary-not-carried = Card balances of clients without a card of their own not carried over: { MONEY($rubles) } (see the report)
import-summary-report = Report of skipped clients: { $path }
import-summary-time = Time: { $seconds } s
export-done = Exported { $count } customers to { $path }
error-import_file_not_found = File { $path } not found.
error-import_too_large = The file is too large: { $size_mb } MB, the limit is { $limit_mb } MB.
error-import_bad_encoding = The file cannot be read: { $reason }. Save it as CSV in UTF-8 or Windows-1251.
error-import_bad_header = The required columns were not found ({ $missing }). The first line: { $found }

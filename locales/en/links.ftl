# Staff: links between customers (the customer card's "Links") and /linktypes.
links-title = Links of { $name }
links-column-is = <b>This customer is</b>
links-column-for = <b>For this customer</b>
links-none = no links
links-button-add = ➕ Add a link
links-button-remove = ✖ { $type }: { $name }
links-button-consent = Data-processing consent given by { $name }
links-ask-other = Type the beginning of the surname or the phone of the customer to link with.
links-nobody-found = Nobody found. Try again.
links-pick = Choose the customer:
links-form = This customer: <b>{ $this }</b>
    Chosen customer: <b>{ $other }</b>

    Left column: "this customer is … for the chosen one"; right column: "the chosen one is … for this customer".
links-button-save = Save
links-button-cancel = Cancel
links-saved = Links saved
links-removed = Link removed
links-consent-recorded = The consent is recorded as given by the legal representative.
linktypes-title = <b>Directory of links between customers</b>
    ☑ left / right: ticked by default in the "this customer is" / "for this customer" column.
linktypes-row = { $forward } { $name } { $backward }{ $state }
linktypes-inactive = (off)
linktypes-system = (system)
linktypes-button-add = ➕ Add
linktypes-button-rename = ✏ { $name }
linktypes-button-off = ⛔ Switch off: { $name }
linktypes-button-on = ✅ Switch on: { $name }
linktypes-button-forward = { $tick } left: { $name }
linktypes-button-backward = { $tick } right: { $name }
linktypes-ask-name = Send the name in Russian and, after "/", in English. For example: Сестра / Sister
linktypes-done = Done.
error-link_type_not_found = No such link type (or it is switched off).
error-link_type_system = A system link type cannot be switched off: the program depends on it.
error-link_not_found = Link not found: it may have been removed already.
error-link_self = A customer cannot be linked to themselves.
error-link_owner_no_card = The card owner has no card of their own: issue one first.
error-link_not_representative = This customer is not recorded as the legal representative.
error-link_type_name = The name must be 1 to { $max } characters long.

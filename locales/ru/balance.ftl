balance-title = 💰 Баланс карты <b>{ $number }</b>
balance-available = Доступно: <b>{ POINTS($points) }</b> { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }
balance-pending = Ожидают начисления: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }
balance-pending-unlock = • { $date } станет доступно: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }
balance-debt = Долг после возврата: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    } (погасится следующими начислениями)
balance-expiring = Сгорят { $date }: { POINTS($points) } { $points ->
        [one] балл
        [few] балла
        [many] баллов
       *[other] балла
    }
balance-level = Уровень: { $level } ({ PERCENT($percent) } с покупок)
balance-next-level = До уровня «{ $level }» осталось купить на { MONEY($amount) }
balance-top-level = Это максимальный уровень.
balance-level-pinned = Уровень закреплён за вами.
balance-level-discount = Уровень: { $level } — скидка { PERCENT($percent) } на покупки

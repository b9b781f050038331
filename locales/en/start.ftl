start-welcome = Hello! This is a loyalty program: earn points on every purchase and pay up to { PERCENT($cap) } of a receipt with them. Your card is your phone number, no plastic needed.
start-consent =
    By pressing "Share my number" you consent to the processing of your personal data (name, phone, purchase history) for the loyalty program under Russian law 152-FZ, policy version { $version }. You can withdraw it at any time with /deleteme.
start-share-hint = To get your card, press the button below 👇
start-share-contact = 📱 Share my number
start-welcome-back = Welcome back! Choose what to show in the menu below.
start-need-registration = Please register first: send /start and share your number.
